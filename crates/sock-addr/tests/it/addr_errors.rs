//! Each failure is its own error kind, names what was asked and keeps the OS's text.

use std::io;

use sock_addr::{Family, Flags, Hints, LookupError, SocketType, lookup};

#[test]
fn unknown_host_with_numerichost_names_the_host() {
    let err = lookup("name.invalid", 80, &Hints::tcp().flags(Flags::NUMERICHOST)).unwrap_err();
    let LookupError::HostNotFound { host, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(host, "name.invalid");
    assert!(!message.is_empty());
    assert!(err.to_string().contains("name.invalid"), "{err}");
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::NotFound);
}

/// A real "no such name" answer from a name server (a fake one inside a namespace).
#[cfg(target_os = "linux")]
#[test]
fn unknown_host_from_name_server_names_the_host() {
    crate::support::netns::run(
        "addr_errors::unknown_host_from_name_server_names_the_host",
        "",
        || {
            crate::support::netns::serve_nxdomain(std::time::Duration::ZERO);
            for result in [
                lookup("name.invalid", 80, &Hints::tcp()),
                crate::support::block_on(sock_addr::resolve("name.invalid", 80, &Hints::tcp())),
            ] {
                match result {
                    Err(LookupError::HostNotFound { host, .. }) => assert_eq!(host, "name.invalid"),
                    other => panic!("expected HostNotFound, got {other:?}"),
                }
            }
        },
    );
}

#[test]
fn unknown_service_is_service_not_found() {
    let err = lookup("127.0.0.1", "no-such-service-x", &Hints::tcp()).unwrap_err();
    let LookupError::ServiceNotFound {
        service,
        socktype,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (service.as_str(), *socktype),
        ("no-such-service-x", SocketType::STREAM)
    );
    assert!(!message.is_empty());
}

#[test]
fn canonname_without_host_is_bad_flags() {
    let err = lookup("*", 0, &Hints::tcp().flags(Flags::CANONNAME)).unwrap_err();
    let LookupError::BadFlags { flags, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*flags, Flags::CANONNAME);
    assert!(!message.is_empty());
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn unix_family_is_not_looked_up() {
    let err = lookup("/tmp/x.sock", 0, &Hints::new().family(Family::UNIX)).unwrap_err();
    let LookupError::FamilyNotSupported { family, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(family, Family::UNIX);
    let err = lookup(
        "127.0.0.1",
        0,
        &Hints::new().family(Family::from_raw(12345)),
    )
    .unwrap_err();
    assert!(
        matches!(err, LookupError::FamilyNotSupported { .. }),
        "{err:?}"
    );
}

#[test]
fn unknown_socket_type_is_socktype_not_supported() {
    let err = lookup(
        "127.0.0.1",
        80,
        &Hints::new().socktype(SocketType::from_raw(12345)),
    )
    .unwrap_err();
    let LookupError::SocktypeNotSupported { socktype, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(socktype.as_raw(), 12345);
}

#[test]
fn ipv6_address_in_inet_lookup_has_no_address() {
    let err = lookup("::1", 80, &Hints::tcp().family(Family::INET)).unwrap_err();
    match &err {
        LookupError::NoAddress { host, family, .. } => {
            assert_eq!((host.as_str(), *family), ("::1", Family::INET))
        }
        LookupError::HostNotFound { host, .. } => assert_eq!(host, "::1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nul_bytes_are_invalid_input() {
    let err = lookup("local\0host", 80, &Hints::tcp()).unwrap_err();
    assert!(matches!(err, LookupError::InvalidInput { .. }), "{err:?}");
    let err = lookup("localhost", "ht\0tp", &Hints::tcp()).unwrap_err();
    assert!(matches!(err, LookupError::InvalidInput { .. }), "{err:?}");
}

#[test]
fn clone_keeps_kind_and_text() {
    let err = lookup("127.0.0.1", "no-such-service-x", &Hints::udp()).unwrap_err();
    let copy = err.clone();
    assert_eq!(copy.to_string(), err.to_string());
    let sys = LookupError::System(io::Error::from_raw_os_error(libc_enomem()));
    assert_eq!(sys.clone().to_string(), sys.to_string());
}

/// ENOMEM's value, the same on every supported OS family (12).
fn libc_enomem() -> i32 {
    12
}

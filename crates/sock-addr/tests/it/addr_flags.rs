//! One test per flag, each failing if the flag were ignored (each checks the answer
//! with and without it).

use std::net::IpAddr;

use sock_addr::{Family, Flags, Hints, LookupError, lookup};

use crate::support::{getent, netns};

fn ips(host: &str, hints: &Hints) -> Result<Vec<IpAddr>, LookupError> {
    let list = lookup(host, 0, hints)?;
    Ok(list
        .iter()
        .map(|e| e.addr().ip().expect("an IP address"))
        .collect())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn passive_with_star_gives_the_wildcard() {
    let v4 = Hints::tcp().family(Family::INET);
    assert_eq!(
        ips("*", &v4.flags(Flags::PASSIVE)).unwrap(),
        [ip("0.0.0.0")]
    );
    assert_eq!(ips("*", &v4).unwrap(), [ip("127.0.0.1")]);
    let v6 = Hints::tcp().family(Family::INET6);
    assert_eq!(ips("*", &v6.flags(Flags::PASSIVE)).unwrap(), [ip("::")]);
    assert_eq!(ips("*", &v6).unwrap(), [ip("::1")]);
}

#[test]
fn canonname_fills_the_canonical_name() {
    let expected = getent::ahosts("ahosts", "localhost")
        .unwrap()
        .canonical_name;
    assert!(expected.is_some());
    let list = lookup("localhost", 0, &Hints::tcp().flags(Flags::CANONNAME)).unwrap();
    assert_eq!(
        list.first().unwrap().canonical_name().map(str::to_owned),
        expected
    );
    let list = lookup("localhost", 0, &Hints::tcp()).unwrap();
    assert!(list.iter().all(|e| e.canonical_name().is_none()));
}

#[test]
fn numerichost_rejects_names() {
    match lookup("localhost", 80, &Hints::tcp().flags(Flags::NUMERICHOST)) {
        Err(LookupError::HostNotFound { host, message }) => {
            assert_eq!(host, "localhost");
            assert!(!message.is_empty());
        }
        other => panic!("expected HostNotFound, got {other:?}"),
    }
    assert!(lookup("localhost", 80, &Hints::tcp()).is_ok());
    assert!(lookup("127.0.0.1", 80, &Hints::tcp().flags(Flags::NUMERICHOST)).is_ok());
}

#[test]
fn numericserv_rejects_service_names() {
    match lookup("127.0.0.1", "http", &Hints::tcp().flags(Flags::NUMERICSERV)) {
        Err(LookupError::ServiceNotFound { service, .. }) => assert_eq!(service, "http"),
        other => panic!("expected ServiceNotFound, got {other:?}"),
    }
    let list = lookup("127.0.0.1", "http", &Hints::tcp()).unwrap();
    assert_eq!(list.first().unwrap().addr().port(), 80);
    let list = lookup("127.0.0.1", "8080", &Hints::tcp().flags(Flags::NUMERICSERV)).unwrap();
    assert_eq!(list.first().unwrap().addr().port(), 8080);
}

#[test]
fn v4mapped_maps_ipv4_into_an_inet6_lookup() {
    let v6 = Hints::tcp().family(Family::INET6);
    assert_eq!(
        ips("127.0.0.1", &v6.flags(Flags::V4MAPPED)).unwrap(),
        [ip("::ffff:127.0.0.1")]
    );
    assert_eq!(
        ips("127.0.0.1", &v6.flags(Flags::V4MAPPED | Flags::ALL)).unwrap(),
        [ip("::ffff:127.0.0.1")]
    );
    assert!(ips("127.0.0.1", &v6).is_err());
}

/// ALL matters for a name with both IPv6 and IPv4 addresses: a private `/etc/hosts`
/// in a namespace provides one.
#[test]
fn all_adds_mapped_ipv4_to_ipv6_answers() {
    let hosts = "127.0.0.1 dual.test\n::1 dual.test\n";
    netns::run(
        "addr_flags::all_adds_mapped_ipv4_to_ipv6_answers",
        hosts,
        || {
            let v6 = Hints::tcp().family(Family::INET6);
            assert_eq!(
                ips("dual.test", &v6.flags(Flags::V4MAPPED)).unwrap(),
                [ip("::1")]
            );
            let all = ips("dual.test", &v6.flags(Flags::V4MAPPED | Flags::ALL)).unwrap();
            assert!(
                all.contains(&ip("::1")) && all.contains(&ip("::ffff:127.0.0.1")),
                "{all:?}"
            );
        },
    );
}

/// ADDRCONFIG matters where a family has no non-loopback address: a namespace with only
/// `lo` has none, so an IPv6 lookup is refused with it and answered without it.
#[test]
fn addrconfig_hides_families_without_addresses() {
    netns::run(
        "addr_flags::addrconfig_hides_families_without_addresses",
        "",
        || {
            let v6 = Hints::tcp().family(Family::INET6);
            assert_eq!(ips("::1", &v6).unwrap(), [ip("::1")]);
            let err = ips("::1", &v6.flags(Flags::ADDRCONFIG)).unwrap_err();
            assert!(
                matches!(
                    err,
                    LookupError::HostNotFound { .. } | LookupError::NoAddress { .. }
                ),
                "{err:?}"
            );
        },
    );
}

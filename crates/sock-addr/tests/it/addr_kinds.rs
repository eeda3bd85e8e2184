//! The seed's strings parse into the typed values and print back; `Debug` names the
//! constants.

use sock_addr::{Family, Flags, Port, Protocol, SocketType};

#[test]
fn families_parse_from_seed_strings() {
    for (s, f) in [
        ("inet", Family::INET),
        ("inet6", Family::INET6),
        ("unix", Family::UNIX),
        ("", Family::UNSPEC),
        ("0", Family::UNSPEC),
    ] {
        assert_eq!(s.parse::<Family>().unwrap(), f);
        assert_eq!(f.name(), if s == "0" { "" } else { s });
    }
    assert_eq!("INET6".parse::<Family>().unwrap(), Family::INET6);
    assert!(
        "ipx"
            .parse::<Family>()
            .unwrap_err()
            .to_string()
            .contains("ipx")
    );
}

#[test]
fn socket_types_parse_from_seed_strings() {
    for (s, t) in [
        ("tcp", SocketType::STREAM),
        ("udp", SocketType::DGRAM),
        ("raw", SocketType::RAW),
        ("", SocketType::ANY),
    ] {
        assert_eq!(s.parse::<SocketType>().unwrap(), t);
        assert_eq!(t.name(), s);
    }
    assert!("sctp".parse::<SocketType>().is_err());
}

#[test]
fn protocols_parse_from_seed_strings() {
    let all = [
        ("ip", Protocol::IP),
        ("ipv6", Protocol::IPV6),
        ("tcp", Protocol::TCP),
        ("udp", Protocol::UDP),
        ("raw", Protocol::RAW),
        ("icmp", Protocol::ICMP),
        ("igmp", Protocol::IGMP),
        ("icmpv6", Protocol::ICMPV6),
    ];
    for (s, p) in all {
        assert_eq!(s.parse::<Protocol>().unwrap(), p);
        assert_eq!(p.name(), s);
        assert_eq!(Protocol::from_raw(p.as_raw()), p);
    }
    assert_eq!("".parse::<Protocol>().unwrap(), Protocol::default());
    assert_eq!(Protocol::TCP.as_raw(), 6);
    assert_eq!(Protocol::UDP.as_raw(), 17);
}

#[test]
fn debug_prints_constant_names_or_raw_values() {
    assert_eq!(format!("{:?}", Family::INET6), "INET6");
    assert_eq!(format!("{:?}", SocketType::STREAM), "STREAM");
    assert_eq!(format!("{:?}", Protocol::ICMPV6), "ICMPV6");
    assert_eq!(format!("{:?}", Family::from_raw(12345)), "Family(12345)");
    assert_eq!(Family::from_raw(12345).name(), "");
}

#[test]
fn flags_parse_combine_and_print() {
    let f: Flags = "passive|cannonname, numerichost numericserv|all|v4mapped|addrconfig"
        .parse()
        .unwrap();
    let all = Flags::PASSIVE
        | Flags::CANONNAME
        | Flags::NUMERICHOST
        | Flags::NUMERICSERV
        | Flags::ALL
        | Flags::V4MAPPED
        | Flags::ADDRCONFIG;
    assert_eq!(f, all);
    assert_eq!(
        format!("{all:?}"),
        "PASSIVE | CANONNAME | NUMERICHOST | NUMERICSERV | ALL | V4MAPPED | ADDRCONFIG"
    );
    assert_eq!(format!("{:?}", Flags::empty()), "(empty)");
    assert_eq!("".parse::<Flags>().unwrap(), Flags::empty());
    assert!(
        "passive|bogus"
            .parse::<Flags>()
            .unwrap_err()
            .to_string()
            .contains("bogus")
    );
    let mut g = Flags::ALL;
    g |= Flags::V4MAPPED;
    assert_eq!(g - Flags::ALL, Flags::V4MAPPED);
    assert_eq!(g & Flags::ALL, Flags::ALL);
    assert_eq!(Flags::from_raw(all.as_raw()), all);
}

#[test]
fn ports_are_numbers_or_names() {
    assert_eq!(Port::from(0u16), Port::ANY);
    assert_eq!(Port::from("443"), Port::from(443));
    assert_eq!(Port::from(String::from("https")).name(), Some("https"));
    assert_eq!(Port::from("+443").number(), None); // not all digits: a name for the OS
    assert_eq!(Port::from("70000").number(), None);
    assert_eq!(
        format!("{:?} {}", Port::from("http"), Port::from(80)),
        "\"http\" 80"
    );
}

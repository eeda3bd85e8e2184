//! Cross-checks against `getent` on this machine: same addresses, same order, same
//! canonical name. `getent ahosts*` calls getaddrinfo with `AI_V4MAPPED | AI_ADDRCONFIG
//! | AI_CANONNAME` and no service (see getent(1)); the same hints are used here.

use std::net::IpAddr;

use sock_addr::{Family, Flags, Hints, LookupError, lookup};

use crate::support::getent::{self, Line};
use crate::support::netns;

/// The getent databases and the family each asks for.
const DATABASES: [(&str, Family); 3] = [
    ("ahosts", Family::UNSPEC),
    ("ahostsv4", Family::INET),
    ("ahostsv6", Family::INET6),
];

/// The flags getent passes.
const GETENT_FLAGS: Flags = Flags::V4MAPPED
    .union(Flags::ADDRCONFIG)
    .union(Flags::CANONNAME);

fn our_lines(
    host: &str,
    family: Family,
    flags: Flags,
) -> Result<(Vec<Line>, Option<String>), LookupError> {
    let list = lookup(host, 0, &Hints::new().family(family).flags(flags))?;
    let lines = list.iter().map(|e| Line {
        ip: e.addr().ip().expect("an IP address"),
        socktype: e.socktype(),
    });
    Ok((lines.collect(), list.canonical_name().map(str::to_owned)))
}

/// Compares every `ahosts*` database for `host`; returns how many answered.
fn cross_check(host: &str) -> usize {
    let mut answered = 0;
    for (database, family) in DATABASES {
        let theirs = getent::ahosts(database, host);
        let ours = our_lines(host, family, GETENT_FLAGS);
        match (theirs, ours) {
            (Some(theirs), Ok((lines, canonical_name))) => {
                assert_eq!(lines, theirs.lines, "getent {database} {host}");
                assert_eq!(
                    canonical_name, theirs.canonical_name,
                    "canonical name, {database} {host}"
                );
                answered += 1;
            }
            (None, Err(err)) => assert_names_host(&err, host),
            (theirs, ours) => panic!("getent {database} {host}: {theirs:?}, but we got {ours:?}"),
        }
    }
    answered
}

fn assert_names_host(err: &LookupError, expected: &str) {
    match err {
        LookupError::HostNotFound { host, .. }
        | LookupError::NoAddress { host, .. }
        | LookupError::TryAgain { host, .. } => assert_eq!(host, expected),
        other => panic!("unexpected error for {expected}: {other:?}"),
    }
    assert!(
        err.to_string().contains(expected),
        "{err} does not name {expected}"
    );
}

#[test]
fn localhost_matches_getent() {
    assert_eq!(cross_check("localhost"), 3);
}

#[test]
fn ipv4_loopback_matches_getent() {
    assert_eq!(cross_check("127.0.0.1"), 3);
}

#[test]
fn ipv6_loopback_matches_getent() {
    assert!(cross_check("::1") >= 2); // ahostsv4 has no answer for an IPv6 address
}

/// `ip6-localhost` is not in every `/etc/hosts` (not in this machine's): looked up in
/// a namespace where the resolver is 127.0.0.1, so a miss cannot reach a real server.
#[test]
fn ip6_localhost_matches_getent() {
    netns::run("addr_getent::ip6_localhost_matches_getent", "", || {
        cross_check("ip6-localhost");
    });
}

/// The same, with the line Debian's `/etc/hosts` has, so both sides must find it.
#[test]
fn ip6_localhost_from_hosts_file_matches_getent() {
    let test = "addr_getent::ip6_localhost_from_hosts_file_matches_getent";
    netns::run(test, "::1 ip6-localhost ip6-loopback\n", || {
        assert!(cross_check("ip6-localhost") >= 1);
        let (lines, name) = our_lines("ip6-localhost", Family::UNSPEC, GETENT_FLAGS).unwrap();
        assert!(
            lines
                .iter()
                .all(|l| l.ip == "::1".parse::<IpAddr>().unwrap()),
            "{lines:?}"
        );
        assert_eq!(name.as_deref(), Some("ip6-localhost"));
    });
}

/// `"*"` with PASSIVE is the wildcard: the same as getent's answer for `0.0.0.0` / `::`.
#[test]
fn wildcard_passive_matches_getent() {
    let flags = Flags::PASSIVE | Flags::V4MAPPED | Flags::ADDRCONFIG;
    let (v4, _) = our_lines("*", Family::INET, flags).unwrap();
    assert_eq!(v4, getent::ahosts("ahostsv4", "0.0.0.0").unwrap().lines);
    let (v6, _) = our_lines("*", Family::INET6, flags).unwrap();
    assert_eq!(v6, getent::ahosts("ahostsv6", "::").unwrap().lines);
    // Any family: both wildcards, each family in getent's order.
    let (any, _) = our_lines("*", Family::UNSPEC, flags).unwrap();
    let only = |ip: &str| -> Vec<Line> {
        let ip: IpAddr = ip.parse().unwrap();
        any.iter().filter(|l| l.ip == ip).cloned().collect()
    };
    assert_eq!(only("0.0.0.0"), v4);
    assert_eq!(only("::"), v6);
    assert_eq!(any.len(), v4.len() + v6.len());
}

#[test]
fn services_match_getent() {
    let cases = [
        ("http", "tcp", Hints::tcp()),
        ("domain", "tcp", Hints::tcp()),
        ("domain", "udp", Hints::udp()),
        ("http", "udp", Hints::udp()),
    ];
    let mut found = 0;
    for (name, proto, hints) in cases {
        let ours = lookup("127.0.0.1", name, &hints);
        match getent::service_port(name, proto) {
            Some(port) => {
                let list = ours.unwrap_or_else(|e| panic!("{name}/{proto}: {e}"));
                assert!(
                    list.iter().all(|e| e.addr().port() == port),
                    "{name}/{proto}: {list:?}"
                );
                assert!(list.iter().all(|e| e.socktype() == hints.socktype));
                found += 1;
            }
            None => match ours {
                Err(LookupError::ServiceNotFound {
                    service, socktype, ..
                }) => {
                    assert_eq!((service.as_str(), socktype), (name, hints.socktype));
                }
                other => panic!("getent has no {name}/{proto}, we got {other:?}"),
            },
        }
    }
    assert!(
        found >= 3,
        "http/tcp and domain/tcp+udp are in every services file"
    );
}

//! Who the client is, for rate limits and the idempotency scope of public requests.
//!
//! Behind a load balancer or ingress every request comes from the proxy's address, so the
//! per-IP limits would throttle all clients as one. Proxies name the client in
//! `X-Forwarded-For`, but any client can send that header too: believing it from anyone
//! would let an attacker pick a fresh "address" per login attempt. So it is honoured only
//! when the socket peer is a configured trusted proxy (`CAREOPS_TRUSTED_PROXIES`), and then
//! read from the right: each trusted proxy appends the address it saw, so the rightmost
//! entry that is not itself a trusted proxy is the client. Entries left of it were written
//! by the client and are ignored.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::startup::AppState;

pub const FORWARDED_FOR_HEADER: &str = "x-forwarded-for";

/// The networks whose `X-Forwarded-For` is believed. Empty (the default): nobody's, the
/// socket peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses (`10.0.0.7`, `::1`) and networks
    /// (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .with_context(|| {
                        format!("CAREOPS_TRUSTED_PROXIES: `{entry}` is not an IP address or CIDR network")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        // Several headers count as one comma-separated list, in order.
        let hops: Vec<&str> = headers
            .get_all(FORWARDED_FOR_HEADER)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An entry that does not parse was not written by a proxy we trust: stop at the
            // last address a trusted proxy vouched for.
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client's address (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn of(
        state: &AppState,
        parts_headers: &HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> Self {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        ClientIp(state.trusted_proxies.client_ip(peer, parts_headers))
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::of(state, &parts.headers, &parts.extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(FORWARDED_FOR_HEADER, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("203.0.113.9"), &headers(&["198.51.100.1"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), &headers(&["198.51.100.1"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_and_spoofed_entries_left_of_it_are_ignored() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5").unwrap();
        let forwarded = headers(&["1.1.1.1, 198.51.100.7", "192.168.1.5"]);
        assert_eq!(
            proxies.client_ip(ip("10.1.2.3"), &forwarded),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
        // IPv4 seen through an IPv6 socket is the same address.
        assert_eq!(
            proxies.client_ip(ip("::ffff:127.0.0.1"), &headers(&["198.51.100.7:4711"])),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_vouched_address() {
        let proxies = TrustedProxies::parse("10.0.0.1,10.0.0.2").unwrap();
        let forwarded = headers(&["198.51.100.7, not-an-ip, 10.0.0.2"]);
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &forwarded),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn bad_entries_are_refused_at_startup() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
        assert!(TrustedProxies::parse(" ").unwrap().is_empty());
    }
}

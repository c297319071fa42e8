//! Which address a request comes from, for rate limits only (it is never stored or logged).
//! Behind a reverse proxy the peer is the proxy; `X-Forwarded-For` is believed only when the
//! peer is one of `ENGAWA_TRUSTED_PROXIES`, and then only up to the first address that is not.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The network a client is counted as, for rate limits and login throttling: an IPv4 address
/// (also when it arrives mapped into IPv6), or the IPv6 address cut to `ipv6_prefix` bits (one
/// household or phone gets a whole /64: counting each address would give it 2^64 budgets).
/// Without an address (a Unix socket) every request is one client.
pub fn network(addr: Option<IpAddr>, ipv6_prefix: u8) -> [u8; 16] {
    let mut network = [0u8; 16];
    match addr.map(|a| a.to_canonical()) {
        Some(IpAddr::V4(a)) => {
            network[0] = 4;
            network[1..5].copy_from_slice(&a.octets());
        }
        Some(IpAddr::V6(a)) => {
            let prefix = u32::from(ipv6_prefix.clamp(1, 128));
            network = (u128::from(a) & (u128::MAX << (128 - prefix))).to_be_bytes();
            // Never equal to the IPv4 form above, which starts with 4 (global IPv6 starts 2 or 3).
            network[0] |= 0x80;
        }
        None => network[0] = 1,
    }
    network
}

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        list.split([',', ' ', '\n'])
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                let s = s.trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!("trusted_proxies: {s:?} is not an address or network")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.trusts(ip)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: the peer, or, through trusted proxies, the nearest address before them.
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr().map(|a| a.ip())?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        // Read from the nearest hop outwards; the first untrusted address is the client.
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusts(*ip))
                .unwrap_or(peer),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:1234").parse().unwrap());
        if let Some(x) = xff {
            r = r.insert_header(("x-forwarded-for", x));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            trusted.client(&req("203.0.113.9", Some("198.51.100.1"))),
            ip("203.0.113.9"),
            "a stranger cannot claim an address"
        );
        assert_eq!(
            trusted.client(&req("127.0.0.1", Some("198.51.100.1"))),
            ip("198.51.100.1")
        );
        assert_eq!(
            trusted.client(&req("10.0.0.2", Some("1.2.3.4, 198.51.100.1, 10.0.0.5"))),
            ip("198.51.100.1"),
            "an address the client made up before the real one is ignored"
        );
        assert_eq!(trusted.client(&req("10.0.0.2", None)), ip("10.0.0.2"));
        assert!(TrustedProxies::parse("not-an-ip").is_err());
    }
}

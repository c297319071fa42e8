//! Which address a request comes from, for rate limits only (it is never stored or logged).
//! Behind a reverse proxy the peer is the proxy; `X-Forwarded-For` is believed only when the
//! peer is one of `ENGAWA_TRUSTED_PROXIES`, and then only up to the first address that is not.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

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

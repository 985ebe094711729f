//! The fetch guard: which targets the service may connect to.
//!
//! Checked at three points, because each alone can be bypassed: when a job is submitted
//! ([`FetchGuard::check_resolved`]), when a host name resolves (the [`HttpFetcher`]'s DNS
//! resolver refuses a name if *any* of its addresses is forbidden, which defeats answers that
//! mix a public and a private address), and on every redirect hop (IP-literal hops never reach
//! the resolver, so the redirect policy checks them with [`FetchGuard::check_url`]).
//!
//! [`HttpFetcher`]: crate::HttpFetcher

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// A refused target.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{target} is not allowed: {reason}")]
pub struct Forbidden {
    /// The URL or address refused.
    pub target: String,
    /// Why, in words.
    pub reason: &'static str,
}

/// Which address ranges may be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchGuard {
    /// Allow 127.0.0.0/8 and ::1.
    pub allow_loopback: bool,
    /// Allow private, link-local, unique-local, CGNAT and unspecified addresses.
    pub allow_private: bool,
}

impl FetchGuard {
    /// The default: public addresses only.
    pub fn deny_private() -> FetchGuard {
        FetchGuard { allow_loopback: false, allow_private: false }
    }

    /// `ACE_ALLOW_PRIVATE_NETWORKS=1`: everything (tests, intranets).
    pub fn allow_all() -> FetchGuard {
        FetchGuard { allow_loopback: true, allow_private: true }
    }

    /// Whether every address may be fetched.
    pub fn allows_everything(&self) -> bool {
        self.allow_loopback && self.allow_private
    }

    /// Checks an address after resolution.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Forbidden> {
        let refuse = |reason| Err(Forbidden { target: ip.to_string(), reason });
        match classify(ip) {
            Class::Public => Ok(()),
            Class::Loopback if !self.allow_loopback => refuse("loopback addresses are refused"),
            Class::Private(reason) if !self.allow_private => refuse(reason),
            Class::Loopback | Class::Private(_) => Ok(()),
        }
    }

    /// Checks what can be checked without DNS: the scheme, and the host when it is an IP.
    pub fn check_url(&self, url: &Url) -> Result<(), Forbidden> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Forbidden { target: url.to_string(), reason: "only http and https URLs can be fetched" });
        }
        match url.host() {
            None => Err(Forbidden { target: url.to_string(), reason: "the URL has no host" }),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)).map_err(|e| with_target(e, url)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)).map_err(|e| with_target(e, url)),
            Some(Host::Domain(_)) => Ok(()),
        }
    }

    /// Checks a URL completely, resolving its host name. A name that does not resolve is
    /// not refused here (the fetch will report it); one that resolves to any refused address is.
    pub async fn check_resolved(&self, url: &Url) -> Result<(), Forbidden> {
        self.check_url(url)?;
        if self.allows_everything() {
            return Ok(());
        }
        if let Some(Host::Domain(name)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(80);
            if let Ok(addrs) = tokio::net::lookup_host((name, port)).await {
                for addr in addrs {
                    self.check_ip(addr.ip()).map_err(|e| with_target(e, url))?;
                }
            }
        }
        Ok(())
    }
}

fn with_target(mut e: Forbidden, url: &Url) -> Forbidden {
    e.target = format!("{url} ({})", e.target);
    e
}

enum Class {
    Public,
    Loopback,
    Private(&'static str),
}

fn classify(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                return Class::Loopback;
            }
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let seg0 = v6.segments()[0];
            if v6.is_unspecified() {
                Class::Private("the unspecified address is refused")
            } else if seg0 & 0xfe00 == 0xfc00 {
                Class::Private("unique-local (private) IPv6 addresses are refused")
            } else if seg0 & 0xffc0 == 0xfe80 {
                Class::Private("link-local addresses are refused")
            } else if v6.is_multicast() {
                Class::Private("multicast addresses are refused")
            } else if is_nat64_or_6to4_private(v6) {
                Class::Private("IPv6 addresses embedding a private IPv4 address are refused")
            } else {
                Class::Public
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> Class {
    let o = ip.octets();
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_private() {
        Class::Private("private addresses are refused")
    } else if ip.is_link_local() {
        Class::Private("link-local addresses (including cloud metadata) are refused")
    } else if ip.is_unspecified() || o[0] == 0 {
        Class::Private("the unspecified address is refused")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Class::Private("shared (CGNAT) addresses are refused")
    } else if ip.is_broadcast() || ip.is_multicast() || o[0] >= 240 {
        Class::Private("broadcast, multicast and reserved addresses are refused")
    } else {
        Class::Public
    }
}

/// 6to4 (2002::/16) and NAT64 (64:ff9b::/96) addresses carry an IPv4 address inside.
fn is_nat64_or_6to4_private(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    let embedded = if s[0] == 0x2002 {
        Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8))
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        Some(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8))
    } else {
        None
    };
    embedded.is_some_and(|v4| !matches!(classify_v4(v4), Class::Public))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(guard: FetchGuard, ip: &str) -> bool {
        guard.check_ip(ip.parse().unwrap()).is_err()
    }

    #[test]
    fn default_refuses_every_non_public_range() {
        let g = FetchGuard::deny_private();
        for ip in [
            "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
            "0.0.0.0", "100.64.0.1", "255.255.255.255", "224.0.0.1", "::1", "::", "fc00::1",
            "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:0a00:0001::1", "64:ff9b::a00:1",
        ] {
            assert!(refused(g, ip), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "172.32.0.1", "100.128.0.1"] {
            assert!(!refused(g, ip), "{ip} is public");
        }
    }

    #[test]
    fn allow_all_allows_everything_and_loopback_only_is_narrow() {
        assert!(!refused(FetchGuard::allow_all(), "10.0.0.1"));
        let loopback_only = FetchGuard { allow_loopback: true, allow_private: false };
        assert!(!refused(loopback_only, "127.0.0.1"));
        assert!(refused(loopback_only, "192.168.0.1"));
    }

    #[test]
    fn urls_need_http_and_a_host() {
        let g = FetchGuard::allow_all();
        for bad in ["file:///etc/passwd", "ftp://example.com/", "data:text/plain,hi", "javascript:alert(1)"] {
            let err = g.check_url(&Url::parse(bad).unwrap()).unwrap_err();
            assert!(err.to_string().contains("not allowed"), "{bad}: {err}");
        }
        let g = FetchGuard::deny_private();
        assert!(g.check_url(&Url::parse("http://[::1]:8080/").unwrap()).is_err());
        assert!(g.check_url(&Url::parse("http://2130706433/").unwrap()).is_err(), "decimal IPv4 is parsed as IP");
        assert!(g.check_url(&Url::parse("https://example.com/").unwrap()).is_ok());
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        let err = FetchGuard::deny_private()
            .check_resolved(&Url::parse("http://localhost:1/").unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.reason, "loopback addresses are refused");
    }
}

//! The HTTP client every outgoing webhook and alert uses, guarded against SSRF: a customer's
//! URL must not reach the installation's own network (loopback, private, link-local, cloud
//! metadata addresses) unless the operator allows it.
//!
//! Addresses are checked when a URL is saved, for a clear error, and again by the client's DNS
//! resolver at every connection, so a name that later resolves somewhere private (DNS
//! rebinding) is still refused. Redirects are not followed: a redirect could lead anywhere.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

use crate::FieldError;

/// Whether `ip` is an ordinary address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // includes 169.254.169.254, the cloud metadata service
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Checks a receiver's URL: http(s), a host, and (unless private targets are allowed) one that
/// resolves only to public addresses. `field` names it in the error.
pub async fn check_url(field: &str, raw: &str, allow_private: bool) -> Result<Url, FieldError> {
    let url = Url::parse(raw.trim()).map_err(|e| FieldError::new(field, format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldError::new(field, "must be an http:// or https:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(field, "must not carry credentials; webhooks are signed instead"));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| FieldError::new(field, "has no host"))?;
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| FieldError::new(field, format!("host {host:?} cannot be resolved: {e}")))?
            .collect(),
    };
    if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(FieldError::new(
            field,
            format!(
                "points to {}, a loopback, private or link-local address; Aegis does not send there \
                 (an operator can allow it with AEGIS_WEBHOOK_ALLOW_PRIVATE=1)",
                bad.ip()
            ),
        ));
    }
    Ok(url)
}

/// A resolver that drops non-public addresses, so that a connection can only go to a public one.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address; refused (SSRF protection)").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The client for outgoing webhooks and alerts.
#[derive(Clone, Debug)]
pub struct GuardedClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl GuardedClient {
    pub fn new(timeout: Duration, allow_private: bool) -> crate::Result<GuardedClient> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Aegis-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let http = builder.build().map_err(|e| crate::Error::Config(format!("webhook HTTP client: {e}")))?;
        Ok(GuardedClient { http, allow_private })
    }

    /// A POST to `url`, refused before any connection if the URL is an IP literal that is not
    /// public (the resolver sees only names).
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, String> {
        let parsed = Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
        if !self.allow_private {
            if let Some(host) = parsed.host_str() {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if let Ok(ip) = host.parse::<IpAddr>() {
                    if !is_public(ip) {
                        return Err(format!("{ip} is not a public address; refused (SSRF protection)"));
                    }
                }
            }
        }
        Ok(self.http.post(parsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[tokio::test]
    async fn urls_to_private_targets_are_refused_unless_allowed() {
        for url in
            ["http://127.0.0.1:9000/hook", "http://[::1]/x", "http://169.254.169.254/latest", "http://localhost/"]
        {
            let e = check_url("url", url, false).await.unwrap_err();
            assert_eq!(e.field, "url");
            assert!(e.message.contains("AEGIS_WEBHOOK_ALLOW_PRIVATE"), "{url}: {}", e.message);
        }
        assert!(check_url("url", "http://127.0.0.1:9000/hook", true).await.is_ok());
        assert!(check_url("url", "ftp://example.com/", true).await.unwrap_err().message.contains("http"));
        assert!(check_url("url", "https://user:pw@example.com/", true).await.is_err());
        assert!(check_url("url", "not a url", true).await.is_err());
    }

    #[tokio::test]
    async fn the_client_refuses_private_targets_at_send_time() {
        let client = GuardedClient::new(Duration::from_secs(2), false).unwrap();
        assert!(client.post("http://10.0.0.1/hook").unwrap_err().contains("SSRF"));
        // A name is checked by the resolver, at connection time.
        let err = client.post("http://localhost:1/hook").unwrap().send().await.unwrap_err();
        let chain = format!("{err:?}");
        assert!(chain.contains("SSRF"), "{chain}");
    }
}

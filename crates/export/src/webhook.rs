//! Alerts posted as JSON to a URL (`watch --webhook`): one small request per alert, bounded
//! in time, never retried in a loop (an alert that cannot be posted is reported; the
//! metrics and the store keep the access).

use std::time::Duration;

/// Posts JSON documents to one URL.
pub struct Webhook {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    url: reqwest::Url,
    timeout: Duration,
}

impl Webhook {
    /// A poster for `url` (http or https), each request bounded by `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Webhook, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("expected http or https, not {}", parsed.scheme()));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Webhook {
            rt,
            client,
            url: parsed,
            timeout,
        })
    }

    /// Posts `body` (JSON); an answer other than 2xx is an error that names the status.
    pub fn post(&self, body: Vec<u8>) -> Result<(), String> {
        self.rt.block_on(async {
            let r = self
                .client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| crate::client::http_error(&e, self.timeout))?;
            let status = r.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("HTTP {status}"))
            }
        })
    }

    /// The URL without credentials, for messages.
    pub fn display(&self) -> String {
        crate::display_url(self.url.as_str())
    }
}

//! What the HTTP surface is configured with: body limits and the ingest key.

use rollgate_config::ControlSettings;

use crate::auth::IngestKey;

/// Limits and keys of the API, OFREP and event ingest.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Largest API and OFREP request body, in bytes (default 64 KiB); larger gets 413.
    pub max_body_bytes: usize,
    /// Largest `/v1/events` body (`[control] max_event_batch_bytes`, default 1 MiB).
    pub max_event_batch_bytes: usize,
    /// Most events in one batch (`[control] max_event_batch_events`, default 1000); more gets
    /// 413 and nothing is recorded.
    pub max_event_batch_events: usize,
    /// Oldest event accepted, in milliseconds before now (the window retention).
    pub max_event_age_ms: i64,
    /// The key `/v1/events` needs; `None` leaves ingest open.
    pub ingest_key: Option<IngestKey>,
}

/// The ingest key's environment variable is set but unusable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {var} (named by [control] ingest_key_env) {why}")]
pub struct OptionsError {
    /// The variable.
    pub var: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            max_body_bytes: 64 * 1024,
            max_event_batch_bytes: 1 << 20,
            max_event_batch_events: 1000,
            max_event_age_ms: 15 * 60 * 1000,
            ingest_key: None,
        }
    }
}

impl ServerOptions {
    /// Options from `[control]`, reading the ingest key from the environment variable it
    /// names (unset: ingest needs no key).
    pub fn from_settings(settings: &ControlSettings) -> Result<ServerOptions, OptionsError> {
        ServerOptions::from_settings_with(settings, |name| std::env::var_os(name))
    }

    /// [`ServerOptions::from_settings`] with the environment given as a function (tests).
    pub fn from_settings_with(
        settings: &ControlSettings,
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<ServerOptions, OptionsError> {
        let var = settings.ingest_key_env.clone();
        let ingest_key = match env(&var) {
            None => None,
            Some(value) => {
                let Some(text) = value.to_str() else {
                    return Err(OptionsError {
                        var,
                        why: "is not UTF-8",
                    });
                };
                let Some(key) = IngestKey::new(text.trim()) else {
                    return Err(OptionsError {
                        var,
                        why: "is set but empty: unset it to leave ingest open, or set a key",
                    });
                };
                Some(key)
            }
        };
        Ok(ServerOptions {
            max_event_batch_bytes: settings.max_event_batch_bytes,
            max_event_batch_events: settings.max_event_batch_events,
            max_event_age_ms: i64::try_from(settings.retention.as_millis()).unwrap_or(i64::MAX),
            ingest_key,
            ..ServerOptions::default()
        })
    }

    /// The same options requiring `key` on `/v1/events`.
    pub fn with_ingest_key(mut self, key: &str) -> ServerOptions {
        self.ingest_key = IngestKey::new(key);
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn settings() -> ControlSettings {
        let config = rollgate_config::parse("", "<test>").unwrap();
        config.control
    }

    #[test]
    fn the_ingest_key_comes_from_the_named_variable() {
        let s = settings();
        let opts = ServerOptions::from_settings_with(&s, |_| None).unwrap();
        assert!(opts.ingest_key.is_none());
        assert_eq!(opts.max_event_batch_events, 1000);
        assert_eq!(opts.max_event_age_ms, 15 * 60 * 1000);

        let opts = ServerOptions::from_settings_with(&s, |name| {
            (name == "ROLLGATE_INGEST_KEY").then(|| "k3y".into())
        })
        .unwrap();
        assert!(opts.ingest_key.unwrap().matches("k3y"));

        let err = ServerOptions::from_settings_with(&s, |_| Some(" ".into())).unwrap_err();
        assert!(err.to_string().contains("ROLLGATE_INGEST_KEY"), "{err}");
    }
}

//! Control plane HTTP: REST API, dashboard, event ingest, OpenFeature evaluation.

//! Evaluating a flag: a rollout answers which version serves the unit, an experiment which
//! variant the unit is in — decided by the same routing table and bucketing as the edge, so an
//! SDK and the proxy always agree. A rollout and an experiment with the same name: the
//! rollout wins.

use rollgate_core::{AttributesView, Reason as RouteReason, RoutingTable};
use serde_json::{Map, Value};

use super::wire::{BulkItem, ErrorCode, EvaluationFailure, EvaluationSuccess, Reason};

/// The value of flag `key` for `unit`, or `FLAG_NOT_FOUND`.
pub fn evaluate(
    table: &RoutingTable,
    key: &str,
    unit: &str,
    attrs: &AttributesView,
) -> Result<EvaluationSuccess, EvaluationFailure> {
    if let Some(rollout) = table.rollout(key) {
        return rollout_flag(table, key, &rollout.service, unit, attrs);
    }
    if table.experiment(key).is_some() {
        return experiment_flag(table, key, unit, attrs);
    }
    Err(EvaluationFailure {
        key: key.to_owned(),
        error_code: ErrorCode::FlagNotFound,
        error_details: format!("no rollout or experiment is named {key:?}"),
    })
}

/// Every rollout, then every experiment, of the table.
pub fn evaluate_all(table: &RoutingTable, unit: &str, attrs: &AttributesView) -> Vec<BulkItem> {
    let spec = table.spec();
    let rollouts = spec.rollouts.iter().map(|r| r.name.as_str());
    let experiments = spec
        .experiments
        .iter()
        .map(|e| e.name.as_str())
        .filter(|name| table.rollout(name).is_none());
    rollouts
        .chain(experiments)
        .map(|key| match evaluate(table, key, unit, attrs) {
            Ok(s) => BulkItem::Success(s),
            Err(f) => BulkItem::Failure(f),
        })
        .collect()
}

fn rollout_flag(
    table: &RoutingTable,
    key: &str,
    service: &str,
    unit: &str,
    attrs: &AttributesView,
) -> Result<EvaluationSuccess, EvaluationFailure> {
    let decision = table
        .assign(service, unit, attrs)
        .map_err(|e| EvaluationFailure {
            key: key.to_owned(),
            error_code: ErrorCode::General,
            error_details: e.to_string(),
        })?;
    let mut metadata = Map::new();
    metadata.insert("service".into(), decision.service().into());
    metadata.insert("version".into(), decision.version().into());
    metadata.insert("cohort".into(), decision.cohort().as_str().into());
    let reason = match decision.reason() {
        RouteReason::Bucket { bucket, weight, .. } if decision.rollout() == Some(key) => {
            metadata.insert("bucket".into(), bucket.into());
            metadata.insert("weight".into(), weight.to_string().into());
            Reason::Split
        }
        RouteReason::OutsideAudience { rollout } if rollout == key => Reason::TargetingMatch,
        _ => Reason::Static,
    };
    Ok(EvaluationSuccess {
        key: key.to_owned(),
        value: Some(decision.version().into()),
        reason,
        variant: decision.cohort().as_str().to_owned(),
        metadata,
    })
}

fn experiment_flag(
    table: &RoutingTable,
    key: &str,
    unit: &str,
    attrs: &AttributesView,
) -> Result<EvaluationSuccess, EvaluationFailure> {
    let assignment = table
        .variant_of(key, unit, attrs)
        .map_err(|e| EvaluationFailure {
            key: key.to_owned(),
            error_code: ErrorCode::FlagNotFound,
            error_details: e.to_string(),
        })?;
    let mut metadata = Map::new();
    metadata.insert("experiment".into(), key.into());
    if let Some(spec) = table.experiment(key) {
        metadata.insert("layer".into(), spec.layer().into());
    }
    Ok(match assignment {
        Some(a) => EvaluationSuccess {
            key: key.to_owned(),
            value: Some(a.value.cloned().unwrap_or_else(|| Value::from(a.variant))),
            reason: Reason::Split,
            variant: a.variant.to_owned(),
            metadata,
        },
        None => EvaluationSuccess {
            key: key.to_owned(),
            value: None,
            reason: Reason::Default,
            variant: String::new(),
            metadata,
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rollgate_core::{EdgeContext, RoutingSpec};
    use serde_json::json;

    use super::*;

    fn table() -> RoutingTable {
        let spec: RoutingSpec = serde_json::from_value(json!({
            "services": [{"name": "shop", "versions": [
                {"name": "v1", "endpoints": ["127.0.0.1:1"]},
                {"name": "v2", "endpoints": ["127.0.0.1:2"]}
            ]}],
            "rollouts": [{"name": "shop-v2", "service": "shop", "stable": "v1", "canary": "v2",
                          "weight": "30%", "audience": {"country": ["DE"]}}],
            "experiments": [{"name": "button", "service": "shop", "allocation": "50%", "variants": [
                {"name": "blue", "weight": "50%", "value": "#00f"},
                {"name": "green", "weight": "50%"}
            ]}]
        }))
        .unwrap();
        RoutingTable::build(&spec, &EdgeContext::default()).unwrap()
    }

    #[test]
    fn rollouts_agree_with_assign() {
        let t = table();
        let de = AttributesView::new().with_country("DE");
        for i in 0..300 {
            let unit = format!("u{i}");
            let got = evaluate(&t, "shop-v2", &unit, &de).unwrap();
            let want = t.assign("shop", &unit, &de).unwrap();
            assert_eq!(got.value, Some(json!(want.version())));
            assert_eq!(got.variant, want.cohort().as_str());
            assert_eq!(got.reason, Reason::Split);
            assert_eq!(got.metadata["bucket"], json!(want.bucket().unwrap()));
        }
        let fr = AttributesView::new().with_country("FR");
        let out = evaluate(&t, "shop-v2", "u1", &fr).unwrap();
        assert_eq!(out.reason, Reason::TargetingMatch);
        assert_eq!(out.value, Some(json!("v1")));
        assert_eq!(out.variant, "stable");
    }

    #[test]
    fn experiments_give_the_variant_value_or_the_code_default() {
        let t = table();
        let attrs = AttributesView::new();
        let (mut inside, mut outside) = (0, 0);
        for i in 0..400 {
            let unit = format!("u{i}");
            let got = evaluate(&t, "button", &unit, &attrs).unwrap();
            match t.variant_of("button", &unit, &attrs).unwrap() {
                Some(a) => {
                    inside += 1;
                    assert_eq!(got.variant, a.variant);
                    let want = if a.variant == "blue" {
                        json!("#00f")
                    } else {
                        json!("green")
                    };
                    assert_eq!(got.value, Some(want));
                    assert_eq!(got.reason, Reason::Split);
                }
                None => {
                    outside += 1;
                    assert_eq!(got.value, None);
                    assert_eq!(got.reason, Reason::Default);
                    assert_eq!(got.variant, "");
                }
            }
        }
        assert!(inside > 100 && outside > 100, "{inside} / {outside}");
    }

    #[test]
    fn unknown_flags_and_bulk() {
        let t = table();
        let e = evaluate(&t, "nope", "u", &AttributesView::new()).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::FlagNotFound);
        let all = evaluate_all(&t, "u1", &AttributesView::new());
        let keys: Vec<&str> = all
            .iter()
            .map(|i| match i {
                BulkItem::Success(s) => s.key.as_str(),
                BulkItem::Failure(f) => f.key.as_str(),
            })
            .collect();
        assert_eq!(keys, ["shop-v2", "button"]);
    }
}

//! Telling people: the [`Notifier`] trait the control plane hands every decision's
//! notification to, a silent one, and a recording fake. Webhooks are in `webhook.rs`.

use std::sync::{Mutex, PoisonError};

use rollgate_config::NotificationEvent;
use rollgate_controller::{Notification, NotificationKind};

/// Takes notifications for delivery. `notify` must return at once (queue the work): it is
/// called by the reconcile loop right after a commit, and a slow or dead receiver must never
/// delay a rollback.
pub trait Notifier: Send + Sync {
    /// Queues `notification` for delivery; never blocks, never fails (failures are logged by
    /// the implementation).
    fn notify(&self, notification: &Notification);
}

/// Tells nobody (no `[[notifications]]` configured).
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

/// A fake that remembers every notification, for tests.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    seen: Mutex<Vec<Notification>>,
}

impl Notifier for Silent {
    fn notify(&self, _notification: &Notification) {}
}

impl RecordingNotifier {
    /// A notifier that records.
    pub fn new() -> RecordingNotifier {
        RecordingNotifier::default()
    }

    /// Every notification so far, oldest first.
    pub fn seen(&self) -> Vec<Notification> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Notifier for RecordingNotifier {
    fn notify(&self, notification: &Notification) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(notification.clone());
    }
}

/// Whether a target subscribed to `events` wants a notification of `kind`: `phase` gets phase
/// changes and restores, `rollback` gets every rollback step, `decision` gets everything
/// (weight changes included).
pub fn wanted(events: &[NotificationEvent], kind: NotificationKind) -> bool {
    events.iter().any(|e| match e {
        NotificationEvent::Decision => true,
        NotificationEvent::Phase => {
            matches!(kind, NotificationKind::Phase | NotificationKind::Restore)
        }
        NotificationEvent::Rollback => kind == NotificationKind::Rollback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_pick_kinds() {
        use NotificationEvent as E;
        use NotificationKind as K;
        assert!(wanted(&[E::Phase], K::Restore));
        assert!(!wanted(&[E::Phase, E::Rollback], K::Weight));
        assert!(wanted(&[E::Decision], K::Weight));
        assert!(wanted(&[E::Rollback], K::Rollback));
        assert!(!wanted(&[E::Rollback], K::Phase));
    }
}

//! Notifications: messages are written to the outbox in the same transaction as the change that causes
//! them, and a dispatcher hands them to a [`Sender`] afterwards, so a message is never lost with a crash and
//! never sent for a change that was rolled back.

use kiemdich_store::{OutboxMessage, Store};
use std::sync::Arc;
use std::time::Duration;

/// A way to deliver messages (an SMS gateway, push). Called off the async runtime, so it may block.
pub trait Sender: Send + Sync + 'static {
    fn send(&self, message: &OutboxMessage) -> Result<(), String>;
}

/// The development sender: logs each message, one-time codes included, so that the demo can be used without
/// an SMS gateway; administrators read the outbox in their jurisdiction (`GET /api/v1/outbox`), never the
/// codes. Nothing leaves the machine.
pub struct LogSender;

impl Sender for LogSender {
    fn send(&self, m: &OutboxMessage) -> Result<(), String> {
        tracing::info!(channel = m.channel.as_str(), recipient = %m.recipient, body = %m.body, "development sender: message not sent, kept in outbox");
        Ok(())
    }
}

const POLL: Duration = Duration::from_millis(500);

/// Delivers unsent messages forever. Each is claimed before sending, so several servers never send one
/// twice; a failed send is logged and not retried (a one-time code is requested again by its user).
pub async fn dispatch(store: Store, sender: Arc<dyn Sender>) {
    loop {
        match store.unsent_outbox(100).await {
            Ok(batch) => {
                for m in batch {
                    match store.claim_outbox(m.id).await {
                        Ok(true) => {
                            let s = sender.clone();
                            let sent = tokio::task::spawn_blocking(move || {
                                s.send(&m).map_err(|e| (m.id, e))
                            })
                            .await;
                            if let Ok(Err((id, e))) = sent {
                                tracing::warn!(message = id, error = %e, "sending failed");
                            }
                        }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(error = %e, "claiming a message failed"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the outbox failed"),
        }
        tokio::time::sleep(POLL).await;
    }
}

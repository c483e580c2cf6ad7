//! The file transport: each notification becomes `<outbox>/<notification-id>.eml` (the full
//! MIME message) or `.txt` (an SMS), written atomically (temporary file, then rename) so a
//! reader never sees half a message. Writing the same notification again replaces its file:
//! the transport is idempotent. This is the default for local runs and the black-box tests.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

use super::{EmailTransport, SendError, SmsTransport};
use crate::message::{OutgoingEmail, OutgoingSms};

/// Writes messages into a folder.
#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn write(&self, name: &str, content: &[u8]) -> Result<(), SendError> {
        let fail = |what: &str, e: std::io::Error| {
            SendError::new("file", format!("{what} in the outbox failed: {}", e.kind()))
        };
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| fail("creating the folder", e))?;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, content)
            .await
            .map_err(|e| fail("writing", e))?;
        tokio::fs::rename(&tmp, self.dir.join(name))
            .await
            .map_err(|e| fail("renaming", e))
    }
}

impl EmailTransport for FileTransport {
    fn name(&self) -> &'static str {
        "file"
    }

    fn idempotent(&self) -> bool {
        true
    }

    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let mime = email
                .mime()
                .map_err(|e| SendError::new("file", e.to_string()))?;
            self.write(&format!("{}.eml", email.notification_id), &mime.formatted())
                .await
        })
    }
}

impl SmsTransport for FileTransport {
    fn name(&self) -> &'static str {
        "file"
    }

    fn idempotent(&self) -> bool {
        true
    }

    fn send<'a>(&'a self, sms: &'a OutgoingSms) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let content = format!(
                "To: {}\nFrom: {}\nKind: {}\nNotification-Id: {}\n\n{}\n",
                sms.to,
                sms.from,
                sms.kind.as_str(),
                sms.notification_id,
                sms.body
            );
            self.write(&format!("{}.txt", sms.notification_id), content.as_bytes())
                .await
        })
    }
}

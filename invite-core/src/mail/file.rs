//! A development mailer that drops each email into a directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ids::MessageId;
use crate::mail::{InvitationEmail, MailError, Mailer};

#[cfg(feature = "smtp")]
use crate::mail::smtp::MimeBuilder;

/// The sender of the `.eml` files when none is configured.
#[cfg(feature = "smtp")]
const DEFAULT_SENDER: &str = "invitations@localhost";

/// Writes every email into a directory, for development and demos (a mailbox you can
/// `ls`). The directory holds live accept links: keep it private, never use it in
/// production.
///
/// One design, whatever the features:
/// - `<message id>.json` always: the [`InvitationEmail`] exactly as the mailer got it
///   (every field), readable back with [`FileMailer::read`] and [`FileMailer::read_all`];
/// - with the `smtp` feature, also `<message id>.eml`: the full MIME message built by
///   the same `MimeBuilder` as the SMTP mailer (open it in any mail client).
///
/// Files are named by the stable message id and written atomically (a temporary file
/// renamed into place), so a re-delivery of the same message overwrites its files
/// instead of adding a duplicate, and a reader never sees half a file.
///
/// Each file holds a live accept link: on Unix the files are created readable by
/// their owner only (`0600`), and a directory the mailer creates too (`0700`).
#[derive(Debug)]
pub struct FileMailer {
    dir: PathBuf,
    sequence: AtomicU64,
    #[cfg(feature = "smtp")]
    mime: Option<MimeBuilder>,
}

impl FileMailer {
    /// A mailer writing into `dir` (created on the first delivery).
    pub fn new(dir: impl Into<PathBuf>) -> FileMailer {
        FileMailer {
            dir: dir.into(),
            sequence: AtomicU64::new(0),
            #[cfg(feature = "smtp")]
            mime: MimeBuilder::new(DEFAULT_SENDER, Some("Invitations")).ok(),
        }
    }

    /// Uses `mime` (its sender) for the `.eml` files.
    #[cfg(feature = "smtp")]
    pub fn with_sender(mut self, mime: MimeBuilder) -> FileMailer {
        self.mime = Some(mime);
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The JSON file of a message.
    pub fn json_path(&self, id: MessageId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The `.eml` file of a message (written only with the `smtp` feature).
    pub fn eml_path(&self, id: MessageId) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    /// The email stored under `id`, if any.
    pub fn read(&self, id: MessageId) -> std::io::Result<Option<InvitationEmail>> {
        match fs::read(self.json_path(id)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every stored email, by message id (ids are time-ordered, so oldest first). Only
    /// files named by a message id are read: another file in the directory (a note,
    /// an editor's backup) is no email and is left alone.
    pub fn read_all(&self) -> std::io::Result<Vec<InvitationEmail>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut emails = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let is_json = path.extension().is_some_and(|x| x == "json");
            let named_by_id = path
                .file_stem()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.parse::<MessageId>().is_ok());
            if is_json && named_by_id {
                let email: InvitationEmail =
                    serde_json::from_slice(&fs::read(&path)?).map_err(std::io::Error::other)?;
                emails.push(email);
            }
        }
        emails.sort_by_key(|e| e.message_id.to_string());
        Ok(emails)
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("message");
        let temp = self.dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            self.sequence.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut file = owner_only_file(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }
}

/// Creates `path` for writing, readable by its owner only on Unix.
fn owner_only_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Creates `dir` and its missing parents, those it creates open to their owner only on
/// Unix (an existing directory keeps its permissions).
fn owner_only_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

impl Mailer for FileMailer {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        let failed = |e: std::io::Error| {
            MailError(format!(
                "writing the email into `{}` failed: {e}",
                self.dir.display()
            ))
        };
        owner_only_dir(&self.dir).map_err(failed)?;
        #[cfg(feature = "smtp")]
        if let Some(mime) = &self.mime {
            let eml = mime.build(email)?;
            self.write_atomically(&self.eml_path(email.message_id), &eml)
                .map_err(failed)?;
        }
        let json = serde_json::to_vec_pretty(email)
            .map_err(|e| MailError(format!("the email could not be serialised: {e}")))?;
        self.write_atomically(&self.json_path(email.message_id), &json)
            .map_err(failed)
    }
}

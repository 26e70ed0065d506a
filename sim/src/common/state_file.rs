//! The simulators' state files: a JSON document written to a temp file and renamed into place
//! (a crash never leaves half a file), saved periodically and on shutdown, and read on start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bumped when the layout of a state file changes incompatibly.
pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error(
        "cannot read the simulator state file {}: {source}; start with --reset (or delete the \
         file) to begin again from a fresh seed",
        path.display()
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the simulator state file {} is not a valid {simulator} simulator state: {reason}; start \
         with --reset (or delete the file) to begin again from a fresh seed",
        path.display()
    )]
    Invalid {
        path: PathBuf,
        simulator: &'static str,
        reason: String,
    },
    #[error("cannot write the simulator state file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the {simulator} simulator state: {source}")]
    Encode {
        simulator: &'static str,
        source: serde_json::Error,
    },
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    simulator: &'a str,
    format: u32,
    state: &'a T,
}

#[derive(serde::Deserialize)]
struct Header {
    simulator: String,
    format: u32,
}

#[derive(serde::Deserialize)]
struct Body<T> {
    state: T,
}

/// The file's bytes for `state`.
pub fn encode<T: Serialize>(simulator: &'static str, state: &T) -> Result<Vec<u8>, StateFileError> {
    serde_json::to_vec(&Envelope {
        simulator,
        format: FORMAT,
        state,
    })
    .map_err(|source| StateFileError::Encode { simulator, source })
}

/// Write `bytes` to `path` through a temp file beside it and a rename.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), StateFileError> {
    let err = |source| StateFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Read a state file written by [`encode`] for `simulator`.
pub fn read<T: DeserializeOwned>(
    path: &Path,
    simulator: &'static str,
) -> Result<T, StateFileError> {
    let bytes = std::fs::read(path).map_err(|source| StateFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |reason: String| StateFileError::Invalid {
        path: path.to_path_buf(),
        simulator,
        reason,
    };
    let header: Header = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if header.simulator != simulator {
        return Err(invalid(format!(
            "it holds the state of the {} simulator",
            header.simulator
        )));
    }
    if header.format != FORMAT {
        return Err(invalid(format!(
            "format {} (this build reads format {FORMAT})",
            header.format
        )));
    }
    let body: Body<T> = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    Ok(body.state)
}

/// How often a running simulator writes its state file.
pub const AUTOSAVE_EVERY: Duration = Duration::from_secs(5);

/// A task that writes the state file every [`AUTOSAVE_EVERY`] when the state changed, and
/// once more when stopped.
pub struct Autosave {
    path: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), StateFileError>>,
}

impl Autosave {
    /// `snapshot` encodes the current state (it takes the simulator's lock briefly).
    pub fn spawn<F>(path: PathBuf, snapshot: F) -> Self
    where
        F: Fn() -> Result<Vec<u8>, StateFileError> + Send + 'static,
    {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let file = path.clone();
        let task = tokio::spawn(async move {
            let path = file;
            let mut last: Option<Vec<u8>> = None;
            // `start` has just written the file: the first round is one period away.
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + AUTOSAVE_EVERY,
                AUTOSAVE_EVERY,
            );
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let last_round = tokio::select! {
                    _ = tick.tick() => false,
                    _ = &mut stopped => true,
                };
                let saved = save_if_changed(&path, &snapshot, &mut last);
                if last_round {
                    return saved;
                }
                if let Err(e) = saved {
                    // Keep serving; the next round tries again.
                    tracing::warn!(error = %e, "simulator state not saved");
                }
            }
        });
        Self { path, stop, task }
    }

    /// Stop the task after a last save; its error, if any.
    pub async fn finish(self) -> Result<(), StateFileError> {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(StateFileError::Write {
                path: self.path,
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

fn save_if_changed<F>(
    path: &Path,
    snapshot: &F,
    last: &mut Option<Vec<u8>>,
) -> Result<(), StateFileError>
where
    F: Fn() -> Result<Vec<u8>, StateFileError>,
{
    let bytes = snapshot()?;
    if last.as_ref() == Some(&bytes) {
        return Ok(());
    }
    // The write happens on the runtime thread; state files are small (a demo store is well
    // under a megabyte), so this stays a few milliseconds every few seconds.
    write(path, &bytes)?;
    *last = Some(bytes);
    Ok(())
}

//! The archive's single writer in this process: one thread that owns the [`Archive`] and
//! appends whatever has queued up as one batch (one lock, one fsync, one checkpoint for
//! many captures: group commit). A job is answered only when its batch is durable.
//!
//! [`Writer::start`] gives the handle jobs are sent through (cloned freely, used from
//! async code) and a [`WriterHandle`] that ends the thread: [`WriterHandle::shutdown`]
//! lets the queued jobs finish, stops, and returns the first failure the thread met, so a
//! command that wrote nothing durable cannot end as if it had.

use super::archive::{Appended, Archive};
use super::index::RecordRow;
use super::warc::{Record, kind};
use crate::error::{Error, Result};

type Reply = tokio::sync::oneshot::Sender<Result<Appended>>;

/// What the thread is asked.
enum Msg {
    Append(Vec<Record>, Reply),
    /// Finish what is queued before this, then end.
    Stop,
}

/// Most record bytes in one batch.
const BATCH_BYTES: usize = 64 << 20;
/// Most jobs in one batch.
const BATCH_JOBS: usize = 512;

/// Sends jobs to the writer thread. The thread ends when every `Writer` clone and the
/// [`WriterHandle`]'s own sender are gone, or at [`WriterHandle::shutdown`].
#[derive(Clone)]
pub struct Writer {
    tx: std::sync::mpsc::Sender<Msg>,
}

/// Ends the writer thread and says how it went.
pub struct WriterHandle {
    tx: std::sync::mpsc::Sender<Msg>,
    /// The thread, or why there is none.
    thread: std::result::Result<std::thread::JoinHandle<Option<Error>>, Error>,
}

impl Writer {
    /// Starts the writer thread over `archive`.
    pub fn start(archive: Archive) -> (Writer, WriterHandle) {
        let (tx, rx) = std::sync::mpsc::channel::<Msg>();
        let spawned = std::thread::Builder::new()
            .name("samizdat-writer".into())
            .spawn(move || run(archive, rx));
        let thread = match spawned {
            Ok(t) => t,
            // No thread (out of threads or memory): every job is then answered "the
            // archive writer has stopped" (its receiver is gone), and shutdown says why.
            Err(e) => {
                let why = format!("the archive writer thread could not start: {e}");
                return (
                    Writer { tx: tx.clone() },
                    WriterHandle {
                        tx,
                        thread: Err(Error::Log(why)),
                    },
                );
            }
        };
        (
            Writer { tx: tx.clone() },
            WriterHandle {
                tx,
                thread: Ok(thread),
            },
        )
    }

    /// Appends records durably; returns when they are fsynced, indexed and checkpointed.
    pub async fn append(&self, records: Vec<Record>) -> Result<Appended> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Msg::Append(records, tx))
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

impl WriterHandle {
    /// Lets every job queued so far finish, stops the thread and waits for it. Jobs sent
    /// afterwards are refused. The first append that failed, or a panic of the thread,
    /// comes back as the error (each failed job was also answered with it).
    pub fn shutdown(self) -> Result<()> {
        // A send fails only when the thread has already ended: join says why.
        let _ = self.tx.send(Msg::Stop);
        self.join()
    }

    /// Waits for the thread to end on its own (when every [`Writer`] clone is dropped),
    /// with the same answer as [`WriterHandle::shutdown`].
    pub fn join(self) -> Result<()> {
        let WriterHandle { tx, thread } = self;
        drop(tx);
        match thread?.join() {
            Ok(None) => Ok(()),
            Ok(Some(e)) => Err(e),
            Err(_) => Err(Error::Log("the archive writer thread panicked".into())),
        }
    }
}

fn stopped() -> Error {
    Error::Log("the archive writer has stopped".into())
}

/// The thread: batches what has queued up, appends it, answers each job. Returns the
/// first failure.
fn run(mut archive: Archive, rx: std::sync::mpsc::Receiver<Msg>) -> Option<Error> {
    let mut first_failure: Option<Error> = None;
    let mut stopping = false;
    while !stopping {
        let Ok(Msg::Append(recs, reply)) = rx.recv() else {
            break;
        };
        let mut jobs = vec![(recs, reply)];
        let mut bytes: usize = jobs[0].0.iter().map(|r| r.block.len()).sum();
        while bytes < BATCH_BYTES && jobs.len() < BATCH_JOBS {
            match rx.try_recv() {
                Ok(Msg::Append(recs, reply)) => {
                    bytes += recs.iter().map(|r| r.block.len()).sum::<usize>();
                    jobs.push((recs, reply));
                }
                Ok(Msg::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if let Err(message) = append_batch(&mut archive, jobs) {
            first_failure.get_or_insert_with(|| Error::Archive {
                path: archive.root().to_path_buf(),
                message,
            });
        }
    }
    first_failure
}

/// Appends one batch and answers its jobs, in order.
fn append_batch(
    archive: &mut Archive,
    jobs: Vec<(Vec<Record>, Reply)>,
) -> std::result::Result<(), String> {
    let sizes: Vec<usize> = jobs.iter().map(|j| j.0.len()).collect();
    let mut all = Vec::with_capacity(sizes.iter().sum());
    let mut replies = Vec::with_capacity(jobs.len());
    for (recs, reply) in jobs {
        all.extend(recs);
        replies.push(reply);
    }
    let started = std::time::Instant::now();
    let n_records = all.len();
    let appended = archive.append(all);
    tracing::debug!(
        "appended {} captures, {n_records} records in {:?}",
        sizes.len(),
        started.elapsed()
    );
    match appended {
        Ok(done) => {
            // Rows come back in order; a new file's warcinfo may sit in front of a job's
            // records: give it to that job.
            let mut rows = done.rows.into_iter().peekable();
            for (n, reply) in sizes.into_iter().zip(replies) {
                let mut mine: Vec<RecordRow> = vec![];
                while mine
                    .iter()
                    .filter(|r| r.warc_type != kind::WARCINFO)
                    .count()
                    < n
                {
                    match rows.next() {
                        Some(r) => mine.push(r),
                        None => break,
                    }
                }
                let _ = reply.send(Ok(Appended {
                    rows: mine,
                    checkpoint: done.checkpoint.clone(),
                }));
            }
            Ok(())
        }
        Err(e) => {
            let message = format!("writing the records failed: {e}");
            for reply in replies {
                let _ = reply.send(Err(Error::Archive {
                    path: archive.root().to_path_buf(),
                    message: message.clone(),
                }));
            }
            Err(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn resource(n: usize) -> Record {
        Record::build(
            kind::RESOURCE,
            "2026-01-01T00:00:00Z",
            Some(&format!("urn:test:{n}")),
            "text/plain",
            vec![],
            format!("record {n}").into_bytes(),
        )
    }

    #[test]
    fn shutdown_finishes_what_was_queued_then_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ar");
        let archive = Archive::open(&root, Config::default()).unwrap();
        let (writer, handle) = Writer::start(archive);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let done = rt.block_on(async {
            let a = writer.append(vec![resource(1), resource(2)]);
            let b = writer.append(vec![resource(3)]);
            futures_util::join!(a, b)
        });
        let (a, b) = (done.0.unwrap(), done.1.unwrap());
        // The first job also gets the new file's warcinfo.
        assert_eq!(a.rows.len(), 3);
        assert_eq!(b.rows.len(), 1);
        let w2 = writer.clone();
        handle.shutdown().unwrap();
        let refused = rt.block_on(w2.append(vec![resource(4)]));
        assert!(refused.is_err(), "a stopped writer takes no more");
        drop(writer);
        let ix = crate::store::index::Index::open(
            &root.join(crate::store::archive::layout::INDEX),
            false,
        )
        .unwrap();
        assert_eq!(ix.leaf_count().unwrap(), 4);
    }

    #[test]
    fn join_waits_for_the_last_writer_and_reports_success() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(&dir.path().join("ar"), Config::default()).unwrap();
        let (writer, handle) = Writer::start(archive);
        let t = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(writer.append(vec![resource(1)]))
                .map(|a| a.rows.len())
        });
        assert_eq!(t.join().unwrap().unwrap(), 2);
        handle.join().unwrap();
    }

    #[test]
    fn shutdown_surfaces_a_failed_append() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ar");
        let archive = Archive::open(&root, Config::default()).unwrap();
        // Where the WARC files go is now a plain file: every append fails (even as root).
        let warc = root.join(crate::store::archive::layout::WARC_DIR);
        let _ = std::fs::remove_dir_all(&warc);
        std::fs::write(&warc, b"not a folder").unwrap();
        let (writer, handle) = Writer::start(archive);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let Err(answered) = rt.block_on(writer.append(vec![resource(1)])) else {
            panic!("the job is answered with the failure");
        };
        assert!(
            answered.to_string().contains("writing the records failed"),
            "{answered}"
        );
        drop(writer);
        let e = handle.shutdown().unwrap_err();
        assert!(e.to_string().contains("writing the records failed"), "{e}");
    }
}

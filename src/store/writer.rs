//! The archive's single writer in this process: one thread that owns the [`Archive`] and
//! appends whatever has queued up as one batch (one lock, one fsync, one checkpoint for
//! many captures: group commit). A job is answered only when its batch is durable.
//!
//! [`Writer::start`] gives the handle jobs are sent through (cloned freely, used from
//! async code) and a [`WriterHandle`] that ends the thread: [`WriterHandle::shutdown`]
//! lets the queued jobs finish, stops, and returns the first failure the thread met, so a
//! command that wrote nothing durable cannot end as if it had.
//!
//! The thread is the one part of a capture that does not run in parallel, so it does as
//! little as it can: each job's records arrive already encoded ([`Encoded`]: gzip member
//! and leaf hash, made by the task that sent them, for the file the thread said it is
//! writing), and the thread appends bytes, fsyncs, indexes and signs. A record encoded
//! for another file than the one it lands in (the file rotated meanwhile) is encoded
//! again by the thread, so what is written is always what the contract says.

use super::archive::{Appended, Archive, Encoded};
use super::index::RecordRow;
use super::warc::{Record, kind};
use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};

type Reply = tokio::sync::oneshot::Sender<Result<Appended>>;

/// What the thread is asked.
enum Msg {
    Append(Vec<Encoded>, Reply),
    /// Finish what is queued before this, then end.
    Stop,
}

/// Jobs with more in-memory record bytes than this are encoded on tokio's blocking pool
/// rather than on the async worker that sent them.
const INLINE_ENCODE_BYTES: u64 = 256 << 10;

/// What a sender needs to encode records the way the thread will write them.
struct Target {
    level: u32,
    /// The `WARC-Warcinfo-ID` records sent now will most likely get
    /// ([`Archive::expected_warcinfo`]), updated after every batch.
    warcinfo: Mutex<String>,
}

impl Target {
    fn encode(&self, records: Vec<Record>) -> Vec<Encoded> {
        let id = self.warcinfo.lock().expect("warcinfo lock").clone();
        records
            .into_iter()
            .map(|r| Encoded::new(r, &id, self.level))
            .collect()
    }
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
    target: Arc<Target>,
}

/// Ends the writer thread and says how it went.
pub struct WriterHandle {
    tx: std::sync::mpsc::Sender<Msg>,
    /// The thread, or why there is none.
    thread: std::result::Result<std::thread::JoinHandle<Option<Error>>, Error>,
}

impl Writer {
    /// Starts the writer thread over `archive`.
    pub fn start(mut archive: Archive) -> (Writer, WriterHandle) {
        let (tx, rx) = std::sync::mpsc::channel::<Msg>();
        let target = Arc::new(Target {
            level: archive.config().storage.gzip_level,
            warcinfo: Mutex::new(archive.expected_warcinfo()),
        });
        let shared = target.clone();
        let spawned = std::thread::Builder::new()
            .name("samizdat-writer".into())
            .spawn(move || run(archive, rx, &shared));
        let thread = match spawned {
            Ok(t) => t,
            // No thread (out of threads or memory): every job is then answered "the
            // archive writer has stopped" (its receiver is gone), and shutdown says why.
            Err(e) => {
                let why = format!("the archive writer thread could not start: {e}");
                return (
                    Writer {
                        tx: tx.clone(),
                        target,
                    },
                    WriterHandle {
                        tx,
                        thread: Err(Error::Log(why)),
                    },
                );
            }
        };
        (
            Writer {
                tx: tx.clone(),
                target,
            },
            WriterHandle {
                tx,
                thread: Ok(thread),
            },
        )
    }

    /// Appends records durably; returns when they are fsynced, indexed and checkpointed.
    /// The records are encoded here, by the caller's task ([`Writer::encode`]).
    pub async fn append(&self, records: Vec<Record>) -> Result<Appended> {
        let in_memory: u64 = records
            .iter()
            .filter(|r| r.in_memory())
            .map(Record::block_len)
            .sum();
        let encoded =
            if in_memory > INLINE_ENCODE_BYTES && tokio::runtime::Handle::try_current().is_ok() {
                let target = self.target.clone();
                tokio::task::spawn_blocking(move || target.encode(records))
                    .await
                    .map_err(|e| Error::Log(format!("encoding the records failed: {e}")))?
            } else {
                self.encode(records)
            };
        self.append_encoded(encoded).await
    }

    /// Encodes records for the file the writer is writing (gzip member, leaf hash, and
    /// that file's `WARC-Warcinfo-ID`), on the calling thread.
    pub fn encode(&self, records: Vec<Record>) -> Vec<Encoded> {
        self.target.encode(records)
    }

    /// Appends records encoded by [`Writer::encode`] (or left raw with
    /// [`Encoded::raw`]), durably.
    pub async fn append_encoded(&self, records: Vec<Encoded>) -> Result<Appended> {
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
fn run(mut archive: Archive, rx: std::sync::mpsc::Receiver<Msg>, target: &Target) -> Option<Error> {
    let mut first_failure: Option<Error> = None;
    let mut stopping = false;
    while !stopping {
        let Ok(Msg::Append(recs, reply)) = rx.recv() else {
            break;
        };
        let mut jobs = vec![(recs, reply)];
        let mut bytes: usize = jobs[0].0.iter().map(Encoded::queued_len).sum();
        while bytes < BATCH_BYTES && jobs.len() < BATCH_JOBS {
            match rx.try_recv() {
                Ok(Msg::Append(recs, reply)) => {
                    bytes += recs.iter().map(Encoded::queued_len).sum::<usize>();
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
        let next = archive.expected_warcinfo();
        *target.warcinfo.lock().expect("warcinfo lock") = next;
    }
    first_failure
}

/// Appends one batch and answers its jobs, in order.
fn append_batch(
    archive: &mut Archive,
    jobs: Vec<(Vec<Encoded>, Reply)>,
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
    let appended = archive.append_encoded(all);
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

    /// Every leaf of the archive at `root`, read back from its files: (record as parsed,
    /// gzip member as stored, leaf hash recomputed from the inflated bytes, index row).
    fn stored(root: &std::path::Path) -> Vec<(Record, Vec<u8>, [u8; 32], RecordRow)> {
        use crate::store::files::WarcFiles;
        let ix = crate::store::index::Index::open(
            &root.join(crate::store::archive::layout::INDEX),
            false,
        )
        .unwrap();
        let rows = ix.records_range(0, ix.leaf_count().unwrap()).unwrap();
        let store = crate::store::archive::warc_store(root);
        let files: u64 = store
            .list()
            .unwrap()
            .iter()
            .map(|f| store.len(f).unwrap())
            .sum();
        assert_eq!(
            rows.iter().map(|r| r.length).sum::<u64>(),
            files,
            "the leaves cover the files, nothing more"
        );
        rows.into_iter()
            .map(|row| {
                let gz = store.read_range(&row.file, row.offset, row.length).unwrap();
                let mut m = crate::store::warc::MemberReader::new(&gz[..], 0, gz.len() as u64);
                let bytes = m.next().unwrap().unwrap().bytes;
                assert!(m.next().is_none(), "one member per leaf");
                let rec = crate::store::warc::parse_record(&bytes).unwrap();
                let leaf = crate::log::entry::leaf_of(&bytes).0;
                (rec, gz, leaf, row)
            })
            .collect()
    }

    /// A page-sized response streamed like the fetcher streams it (body in a spool).
    fn response(n: usize) -> Record {
        let mut b = crate::store::spool::StreamedBlock::new(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n".to_vec(),
        );
        b.write(format!("<p>page {n}</p>").repeat(200).as_bytes())
            .unwrap();
        Record::build_streamed(
            kind::RESPONSE,
            "2026-01-01T00:00:00Z",
            Some(&format!("http://example.com/{n}")),
            crate::store::warc::mime::HTTP_RESPONSE,
            vec![],
            b,
        )
    }

    #[test]
    fn what_a_task_encodes_is_what_the_file_holds_and_the_log_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ar");
        let archive = Archive::open(&root, Config::default()).unwrap();
        let (writer, handle) = Writer::start(archive);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Encoded by the "task", before the first file (and its warcinfo) exists.
        let jobs: Vec<Vec<Encoded>> = (0..3)
            .map(|j| writer.encode(vec![resource(j), response(j)]))
            .collect();
        let mut sent: Vec<(String, Vec<u8>, [u8; 32])> = vec![];
        for e in jobs.iter().flatten() {
            let (gz, leaf) = e
                .member()
                .expect("an in-memory record is encoded by its task");
            sent.push((e.record().id().to_string(), gz.to_vec(), leaf));
        }
        rt.block_on(async {
            for job in jobs {
                writer.append_encoded(job).await.unwrap();
            }
        });
        handle.shutdown().unwrap();
        drop(writer);
        let stored = stored(&root);
        assert_eq!(stored.len(), 1 + sent.len());
        let (info, ..) = &stored[0];
        assert_eq!(info.warc_type(), kind::WARCINFO);
        for ((id, gz, leaf), (rec, gz_in_file, leaf_in_file, row)) in sent.iter().zip(&stored[1..])
        {
            assert_eq!(rec.id(), id);
            assert_eq!(
                gz_in_file, gz,
                "{id}: the file holds the task's gzip member"
            );
            assert_eq!(
                leaf_in_file, leaf,
                "{id}: the task's leaf hash is the file's"
            );
            assert_eq!(
                &row.leaf_hash, leaf,
                "{id}: the index and log got that leaf"
            );
            assert_eq!(rec.field("WARC-Warcinfo-ID"), Some(info.id()), "{id}");
        }
        let hashes =
            crate::log::hashes::HashStore::open(&root.join(crate::store::archive::layout::HASHES))
                .unwrap();
        for (_, _, leaf, row) in &stored {
            assert_eq!(
                hashes.leaf_hash(row.leaf).unwrap().0,
                *leaf,
                "leaf {}",
                row.leaf
            );
        }
    }

    #[test]
    fn a_record_encoded_for_a_file_that_rotated_away_is_encoded_for_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ar");
        let mut config = Config::default();
        // Every record starts a new file: every guess but the first is stale.
        config.storage.warc_max_bytes = 1;
        let archive = Archive::open(&root, config).unwrap();
        let (writer, handle) = Writer::start(archive);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let job = writer.encode((0..4).map(response).collect());
        let guessed = job[0]
            .record()
            .field("WARC-Warcinfo-ID")
            .unwrap()
            .to_string();
        let done = rt.block_on(writer.append_encoded(job)).unwrap();
        // Encoded after that batch: for the file the writer has now, which is full.
        let late = writer.encode(vec![resource(9)]);
        rt.block_on(writer.append_encoded(late)).unwrap();
        handle.shutdown().unwrap();
        drop(writer);
        assert_eq!(
            done.rows.len(),
            8,
            "four files, each a warcinfo and a record"
        );
        let stored = stored(&root);
        let mut info_of_file = std::collections::HashMap::new();
        for (rec, _, leaf, row) in &stored {
            assert_eq!(&row.leaf_hash, leaf, "leaf {}", row.leaf);
            if rec.warc_type() == kind::WARCINFO {
                info_of_file.insert(row.file.clone(), rec.id().to_string());
                continue;
            }
            assert_eq!(
                rec.field("WARC-Warcinfo-ID"),
                info_of_file.get(&row.file).map(String::as_str),
                "leaf {} names its own file's warcinfo",
                row.leaf
            );
            assert_eq!(rec.fields_named("WARC-Warcinfo-ID").count(), 1);
        }
        assert_eq!(info_of_file.len(), 5);
        assert_eq!(
            info_of_file.get("samizdat-00000001.warc.gz"),
            Some(&guessed),
            "the first file's warcinfo has the id chosen before it was written"
        );
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

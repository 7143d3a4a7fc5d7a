//! A session read as its files grow: what `watch` and `hook` drive, and what a backfill is
//! the one-step case of. Reading the files in any number of pieces gives the session that
//! reading them whole gives.

use sessiontrail_model::Session;

use crate::adapter::{Finish, SessionParser, adapter};
use crate::read::{Changed, Checkpoint, LastLine, read_lines};
use crate::report::Report;
use crate::{ParseOptions, SessionFiles};

/// A file of a session that cannot be read on from where it was read to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} {}", match change {
    Changed::Replaced => "was replaced by another file since it was read",
    Changed::Truncated => "is shorter than what was read of it (truncated or rewritten)",
})]
pub struct FileChanged {
    /// The file, as named in the session's files.
    pub file: String,
    /// What happened to it.
    pub change: Changed,
}

/// One session being read, with how far each of its files was read.
pub struct Tail {
    files: SessionFiles,
    opts: ParseOptions,
    parser: Box<dyn SessionParser>,
    marks: Vec<Checkpoint>,
}

impl Tail {
    /// A session none of whose lines was read yet.
    pub fn new(files: SessionFiles, opts: &ParseOptions) -> Tail {
        let parser = adapter(files.agent).parser(&files.session_id, &files.files, opts);
        let marks = vec![Checkpoint::default(); files.files.len()];
        Tail {
            files,
            opts: opts.clone(),
            parser,
            marks,
        }
    }

    /// A session read up to `marks` by an earlier process (a file with a default mark was
    /// never read). The parser's state is rebuilt by reading each file again, up to what
    /// it holds now (the files are local: a read, where storing the whole state would cost
    /// a copy of the session per checkpoint); a file replaced or cut since is an error.
    pub fn resume(
        files: SessionFiles,
        opts: &ParseOptions,
        marks: &[Checkpoint],
    ) -> Result<Tail, FileChanged> {
        let mut t = Tail::new(files, opts);
        for i in 0..t.marks.len() {
            let mark = marks.get(i).copied().unwrap_or_default();
            let path = t.files.files[i].clone();
            let changed = |change| FileChanged {
                file: t.files.names[i].clone(),
                change,
            };
            let got = read_lines(
                t.parser.as_mut(),
                &path,
                &t.files.names[i],
                Checkpoint::default(),
                LastLine::Wait,
                t.opts.max_line_bytes,
            )
            .map_err(changed)?;
            if mark.identity.is_some() && got.identity != mark.identity {
                return Err(changed(Changed::Replaced));
            }
            if got.offset < mark.offset {
                return Err(changed(Changed::Truncated));
            }
            t.marks[i] = got;
        }
        Ok(t)
    }

    /// Reads what was added to the files since the last call, leaving a last line that has
    /// no newline yet for the next. Whether anything was read.
    pub fn poll(&mut self) -> Result<bool, FileChanged> {
        self.read(LastLine::Wait)
    }

    /// The session's files.
    pub fn files(&self) -> &SessionFiles {
        &self.files
    }

    fn read(&mut self, last: LastLine) -> Result<bool, FileChanged> {
        let mut any = false;
        for (i, path) in self.files.files.iter().enumerate() {
            let from = self.marks[i];
            let to = read_lines(
                self.parser.as_mut(),
                path,
                &self.files.names[i],
                from,
                last,
                self.opts.max_line_bytes,
            )
            .map_err(|change| FileChanged {
                file: self.files.names[i].clone(),
                change,
            })?;
            any |= to.offset != from.offset;
            self.marks[i] = to;
        }
        Ok(any)
    }

    /// How far each file was read, in the order of [`SessionFiles::files`].
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.marks
    }

    /// The session as far as it was read, the policy applied.
    pub fn session(&self) -> (Option<Session>, Report) {
        let (mut s, r) = self.parser.snapshot();
        if let Some(s) = s.as_mut() {
            crate::apply_policy(s, &self.opts);
        }
        (s, r)
    }

    /// Reads what is left (a last line without newline included) and closes the session,
    /// the policy applied.
    pub fn finish(self, reason: Finish) -> (Option<Session>, Report) {
        let (s, r, _) = self.finish_with_checkpoints(reason);
        (s, r)
    }

    /// [`Tail::finish`], with how far each file was read in the end.
    pub fn finish_with_checkpoints(
        mut self,
        reason: Finish,
    ) -> (Option<Session>, Report, Vec<Checkpoint>) {
        if let Err(c) = self.read(LastLine::Read) {
            tracing::warn!(session = %self.opts.content.scrub(&self.files.session_id), "{}; the session is closed as read so far", self.opts.content.scrub(&c.to_string()));
        }
        let (mut s, r) = self.parser.finish(reason);
        if let Some(s) = s.as_mut() {
            crate::apply_policy(s, &self.opts);
        }
        (s, r, self.marks)
    }
}

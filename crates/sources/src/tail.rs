//! A session read as its files grow: what `watch` and `hook` drive, and what a backfill is
//! the one-step case of. Reading the files in any number of pieces gives the session that
//! reading them whole gives.

use sessiontrail_model::Session;

use crate::adapter::{Finish, SessionParser, adapter};
use crate::read::{Changed, Checkpoint, LastLine, read_lines};
use crate::report::Report;
use crate::{ParseOptions, SessionFiles};

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

    /// A session read up to `marks` by an earlier process. The parser's state is rebuilt by
    /// reading each file again up to its checkpoint (the files are local: a read, where
    /// storing the whole state would cost a copy of the session per checkpoint); a file
    /// replaced or cut since is an error.
    pub fn resume(
        files: SessionFiles,
        opts: &ParseOptions,
        marks: &[Checkpoint],
    ) -> Result<Tail, Changed> {
        let mut t = Tail::new(files, opts);
        for (i, mark) in marks.iter().enumerate().take(t.marks.len()) {
            let path = t.files.files[i].clone();
            let got = read_lines(
                t.parser.as_mut(),
                &path,
                &t.files.names[i],
                Checkpoint::default(),
                LastLine::Wait,
                t.opts.max_line_bytes,
            )?;
            if got.identity != mark.identity {
                return Err(Changed::Replaced);
            }
            if got.offset < mark.offset {
                return Err(Changed::Truncated);
            }
            t.marks[i] = got;
        }
        Ok(t)
    }

    /// Reads what was added to the files since the last call, leaving a last line that has
    /// no newline yet for the next. Whether anything was read.
    pub fn poll(&mut self) -> Result<bool, Changed> {
        self.read(LastLine::Wait)
    }

    fn read(&mut self, last: LastLine) -> Result<bool, Changed> {
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
            )?;
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
            tracing::warn!(session = %self.opts.content.scrub(&self.files.session_id), "a file changed while it was read ({c:?}); the session is closed as read so far");
        }
        let (mut s, r) = self.parser.finish(reason);
        if let Some(s) = s.as_mut() {
            crate::apply_policy(s, &self.opts);
        }
        (s, r, self.marks)
    }
}

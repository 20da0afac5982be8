"""The database schema: forward migrations numbered by ``PRAGMA user_version``, and which tables refer to which.

Opening a file runs the missing migrations in order (``bot.storage.database``). A migration is never edited
once shipped: a change is a new one at the end.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the question log, the staff queue, feedback and per-user preferences.
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        asked_at TEXT NOT NULL,
        user_id INTEGER,
        chat_id INTEGER,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('answered', 'suggested', 'unanswered')),
        entry_id TEXT,
        score REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE INDEX questions_user ON questions (user_id);
    CREATE TABLE unanswered (
        id INTEGER PRIMARY KEY,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        user_id INTEGER,
        chat_id INTEGER,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'answered', 'dismissed')),
        reply TEXT,
        replied_by INTEGER,
        replied_at TEXT
    );
    CREATE INDEX unanswered_status ON unanswered (status, created_at);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        user_id INTEGER,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        entry_id TEXT NOT NULL,
        helpful INTEGER NOT NULL CHECK (helpful IN (0, 1))
    );
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        lang TEXT,
        updated_at TEXT NOT NULL
    );
    """,
    # 2: the staff follow-up loop. Staff posts map to queue items by numeric ids (a reply to a post
    # still finds its item after a restart); names for staff posts; failed deliveries stay visible.
    """
    CREATE TABLE staff_messages (
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES unanswered (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (chat_id, message_id)
    );
    CREATE INDEX staff_messages_item ON staff_messages (item_id);
    ALTER TABLE users ADD COLUMN first_name TEXT;
    ALTER TABLE users ADD COLUMN username TEXT;
    ALTER TABLE unanswered ADD COLUMN delivery_error TEXT;
    ALTER TABLE unanswered ADD COLUMN delivery_failed_at TEXT;
    CREATE INDEX feedback_created_at ON feedback (created_at);
    CREATE INDEX feedback_user ON feedback (user_id);
    CREATE INDEX unanswered_user ON unanswered (user_id);
    """,
    # 3: the inbox. Each incoming Telegram update is written here before Telegram is told it arrived,
    # and marked done (its payload dropped) once handled: a crash loses none, a re-delivery is spotted.
    """
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        payload TEXT,
        received_at REAL NOT NULL,
        done_at REAL
    );
    CREATE INDEX inbox_done_at ON inbox (done_at);
    """,
    # 4: question ids handed out ahead of the row, in blocks per process, so a reply (whose buttons carry
    # the id) goes out while its question is being written. Every question insert takes its id here.
    """
    CREATE TABLE id_blocks (
        name TEXT PRIMARY KEY,
        next INTEGER NOT NULL
    );
    INSERT INTO id_blocks (name, next) SELECT 'questions', coalesce(max(id), 0) + 1 FROM questions;
    """,
    # 5: nothing stalls or repeats. Staff posts go through an outbox drained in the background (a
    # hand-off never waits for the staff chat's rate limit); an update that cannot be parsed is set
    # aside in quarantine; inbox rows keep a digest of their payload, so a reused update id (the Bot
    # API restarted its sequence) is told from a re-delivery; one hand-off per question and one vote
    # per user and answer; a reply that never reached the investor is marked as such.
    """
    ALTER TABLE inbox ADD COLUMN digest TEXT;
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        update_id INTEGER,
        received_at REAL NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT
    );
    CREATE TABLE staff_outbox (
        id INTEGER PRIMARY KEY,
        item_id INTEGER REFERENCES unanswered (id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        note TEXT,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sending', 'sent', 'summarised', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        done_at TEXT
    );
    CREATE INDEX staff_outbox_state ON staff_outbox (state, id);
    UPDATE unanswered SET question_id = NULL WHERE question_id IS NOT NULL AND id NOT IN
        (SELECT min(id) FROM unanswered WHERE question_id IS NOT NULL GROUP BY question_id);
    CREATE UNIQUE INDEX unanswered_question ON unanswered (question_id) WHERE question_id IS NOT NULL;
    DELETE FROM feedback WHERE id NOT IN
        (SELECT max(id) FROM feedback GROUP BY user_id, coalesce(question_id, 0), entry_id);
    CREATE UNIQUE INDEX feedback_vote ON feedback (user_id, coalesce(question_id, 0), entry_id);
    ALTER TABLE questions ADD COLUMN delivered INTEGER NOT NULL DEFAULT 1;
    """,
    # 6: messages that are no question are logged with their own status (small talk, unclear input).
    # SQLite cannot change a CHECK constraint: the table is rebuilt, as its documentation describes
    # ("Making Other Kinds Of Table Schema Changes"), with foreign keys off (``Store._setup``) so the rows
    # of unanswered and feedback that refer to questions keep their links.
    """
    CREATE TABLE questions_new (
        id INTEGER PRIMARY KEY,
        asked_at TEXT NOT NULL,
        user_id INTEGER,
        chat_id INTEGER,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('answered', 'suggested', 'unanswered', 'smalltalk', 'unclear')),
        entry_id TEXT,
        score REAL NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 1
    );
    INSERT INTO questions_new (id, asked_at, user_id, chat_id, lang, text, status, entry_id, score, delivered)
        SELECT id, asked_at, user_id, chat_id, lang, text, status, entry_id, score, delivered FROM questions;
    DROP TABLE questions;
    ALTER TABLE questions_new RENAME TO questions;
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE INDEX questions_user ON questions (user_id);
    """,
    # 7: the entry an investor picked from a question's did-you-mean list: a signal staff and the
    # suggestions learn from (issue 17). On the question's row, so /forget and retention take it along.
    """
    ALTER TABLE questions ADD COLUMN picked TEXT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# Foreign keys (table -> the tables it refers to). The writer may run a queued write ahead of earlier ones
# only when they touch neither its table nor one related to it by a key (bot/storage/writer.py).
REFERENCES: dict[str, frozenset[str]] = {
    "unanswered": frozenset({"questions"}),
    "feedback": frozenset({"questions"}),
    "staff_messages": frozenset({"unanswered"}),
    "staff_outbox": frozenset({"unanswered"}),
}

-- Indexes no query reads, each one more B-tree page written by every insert: the jobs' event
-- (the unprocessed-event count starts from the open jobs' partial index) and the write
-- intents' external reference (intents are found by their record's key).
DROP INDEX IF EXISTS jobs_event;
DROP INDEX IF EXISTS write_intents_ref;

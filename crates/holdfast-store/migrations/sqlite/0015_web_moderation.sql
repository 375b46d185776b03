-- 0015 (web, issue 13): announcements may be drafts, written and edited
-- before anyone sees them, then published from the moderation pages.
-- Existing announcements were published when made. Same as PostgreSQL's 0015.
ALTER TABLE announcements ADD COLUMN published INTEGER NOT NULL DEFAULT 1;

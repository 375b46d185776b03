-- A poll's end is told in bounded batches, each a run of its due job: the
-- last account told so far (NULL: nobody yet, not even the author), so the
-- next run goes on after it. An edit that ends the poll anew resets it.
ALTER TABLE polls ADD COLUMN end_notified_through BIGINT;

-- `admin.report` notifications name the report they are about; one per
-- report (a reporter's second report notifies again).
ALTER TABLE notifications ADD COLUMN report_id BIGINT REFERENCES reports(id) ON DELETE CASCADE;
DROP INDEX notifications_once;
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, from_account_id, type, COALESCE(status_id, 0), COALESCE(report_id, 0));

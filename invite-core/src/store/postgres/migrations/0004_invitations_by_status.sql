-- A business's invitations by stored status, so a listing filtered by status reads only
-- the invitations in that status instead of walking the business's (`scale list
-- postgres 100000`: 23-32 ms for a status no invitation has). A send writes one more
-- B-tree and a status change moves an entry, in the round trips they make already.
CREATE INDEX invitations_status ON invitations (business_id, status, id);

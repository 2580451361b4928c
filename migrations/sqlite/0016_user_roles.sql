-- Dashboard users get real roles (owner, admin, reviewer, viewer). Until now every user was an
-- admin; the first user of each organization, who set it up, becomes its owner.
UPDATE users SET role = 'owner'
WHERE id IN (
    SELECT u.id FROM users u
    WHERE u.created_at = (SELECT MIN(v.created_at) FROM users v WHERE v.org_id = u.org_id)
);

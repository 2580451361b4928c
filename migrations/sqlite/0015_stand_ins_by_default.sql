-- Realistic stand-ins became the default policy for new organizations (issue 16). Organizations
-- that never stored a policy ran on the old default, tokens: pin it, so that nothing changes for
-- them until an administrator chooses. Every other field keeps its default when read.
INSERT INTO phi_policies (org_id, policy, updated_at)
SELECT id, '{"surrogates":false}', CAST(strftime('%s', 'now') AS INTEGER) * 1000000
FROM organizations
WHERE id NOT IN (SELECT org_id FROM phi_policies);

-- Shared lists: what an owner, an editor, a viewer, a non-member and no one
-- may do to a list, its members, its invitations and its todos, tried for
-- real; then joining by invitation, the audit trail, the last-owner rule, and
-- the shapes that keep the policies recursion-free and once per statement.
-- Runs inside a transaction that is rolled back: safe on a live database (as a
-- superuser):  pg_prove -d "$URL" policies/tests/*.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(235);

-- ---------------------------------------------------------------- the people and their lists
-- Groceries: olga owns it, eddie edits, vera and tim view. Nora owns her own
-- list, in which olga is a viewer; for Groceries nora is the non-member.
CREATE FUNCTION pg_temp.list(name text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE name WHEN 'groceries' THEN '00000000-0000-4000-8000-00000000a001'::uuid
                     WHEN 'nora''s'   THEN '00000000-0000-4000-8000-00000000a002'::uuid END
$$;
INSERT INTO lists (id, name, created_by) VALUES
    (pg_temp.list('groceries'), 'Groceries', 'olga'),
    (pg_temp.list('nora''s'), 'Nora''s', 'nora');
INSERT INTO list_members (list_id, user_id, role, added_by) VALUES
    (pg_temp.list('groceries'), 'eddie', 'editor', 'olga'),
    (pg_temp.list('groceries'), 'vera', 'viewer', 'olga'),
    (pg_temp.list('groceries'), 'tim', 'viewer', 'olga'),
    (pg_temp.list('nora''s'), 'olga', 'viewer', 'nora');
INSERT INTO todos (list_id, user_id, title) VALUES
    (pg_temp.list('groceries'), 'olga', 'milk'),
    (pg_temp.list('groceries'), 'eddie', 'eggs'),
    (pg_temp.list('nora''s'), 'nora', 'nora 1');
-- Four invitations to Groceries, tokens hashed as the API does (SHA-256).
INSERT INTO list_invitations (list_id, token_hash, role, max_uses, uses, expires_at, revoked_at, created_by) VALUES
    (pg_temp.list('groceries'), sha256('valid'), 'editor', 5, 0, now() + interval '1 day', NULL, 'olga'),
    (pg_temp.list('groceries'), sha256('expired'), 'editor', 5, 0, now() - interval '1 second', NULL, 'olga'),
    (pg_temp.list('groceries'), sha256('revoked'), 'editor', 5, 0, now() + interval '1 day', now(), 'olga'),
    (pg_temp.list('groceries'), sha256('used up'), 'editor', 1, 1, now() + interval '1 day', NULL, 'olga');

-- me() is the caller's identity as a statement would write it ('' if none).
CREATE FUNCTION pg_temp.me() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('app.user_id', true), '')
$$;

-- try(who, stmt) runs stmt as todo_app with app.user_id = who (NULL: left
-- unset), rolls it back, and says what happened: the number of rows it read
-- or wrote, or the SQLSTATE it failed with (42501: refused by a policy or a
-- grant; TD001: the last owner).
CREATE FUNCTION pg_temp.try(who text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF who IS NOT NULL THEN
        PERFORM set_config('app.user_id', who, true);
    END IF;
    SET LOCAL ROLE todo_app;
    EXECUTE stmt;
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE SQLSTATE 'T0000' USING MESSAGE = n;  -- undo what stmt did
EXCEPTION
    WHEN SQLSTATE 'T0000' THEN RETURN SQLERRM;
    WHEN OTHERS THEN RETURN SQLSTATE;
END
$$;

-- act_as(role, user) switches to role with app.user_id = user until the next act_as.
CREATE FUNCTION pg_temp.act_as(r text, u text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'RESET ROLE';
    PERFORM set_config('app.user_id', u, true);
    EXECUTE format('SET LOCAL ROLE %I', r);
END $$;

-- ---------------------------------------------------------------- the matrix
-- One row per operation on Groceries, one column per caller: what try()
-- must answer. The owner cannot join uninvited because she is a member already
-- (23505). Moving a todo is tried with UPDATE on list_id granted, which
-- todo_app does not have: the policies alone must stop it, whether the mover
-- only views the target list (olga, in Nora's) or is not in it (eddie).
CREATE TEMP TABLE matrix (n serial, op text, stmt text,
    owner text, editor text, viewer text, non_member text, unset text, empty text);
INSERT INTO matrix (op, stmt, owner, editor, viewer, non_member, unset, empty) VALUES
-- lists                                                                                       owner    editor   viewer   non-mbr  unset    empty
('see the list', $$SELECT FROM lists WHERE id = pg_temp.list('groceries')$$,                   '1',     '1',     '1',     '0',     '0',     '0'),
('create a list', $$INSERT INTO lists (name, created_by) VALUES ('New', pg_temp.me())$$,       '1',     '1',     '1',     '1',     '42501', '42501'),
('create a list in another''s name', $$INSERT INTO lists (name, created_by) VALUES ('Forged', 'mallory')$$,
                                                                                               '42501', '42501', '42501', '42501', '42501', '42501'),
('rename the list', $$UPDATE lists SET name = 'Renamed' WHERE id = pg_temp.list('groceries')$$, '1',    '0',     '0',     '0',     '0',     '0'),
('delete the list', $$DELETE FROM lists WHERE id = pg_temp.list('groceries')$$,                '1',     '0',     '0',     '0',     '0',     '0'),
-- list_members
('see its members', $$SELECT FROM list_members WHERE list_id = pg_temp.list('groceries')$$,    '4',     '4',     '4',     '0',     '0',     '0'),
('add a member', $$INSERT INTO list_members (list_id, user_id, role, added_by)
                   VALUES (pg_temp.list('groceries'), 'newbie', 'viewer', pg_temp.me())$$,     '1',     '42501', '42501', '42501', '42501', '42501'),
('join uninvited', $$INSERT INTO list_members (list_id, user_id, role, added_by)
                     VALUES (pg_temp.list('groceries'), pg_temp.me(), 'owner', pg_temp.me())$$, '23505', '42501', '42501', '42501', '42501', '42501'),
('change a member''s role', $$UPDATE list_members SET role = 'editor'
                              WHERE list_id = pg_temp.list('groceries') AND user_id = 'tim'$$, '1',     '0',     '0',     '0',     '0',     '0'),
('make oneself owner', $$UPDATE list_members SET role = 'owner'
                         WHERE list_id = pg_temp.list('groceries') AND user_id = pg_temp.me()$$, '1',   '0',     '0',     '0',     '0',     '0'),
('remove another member', $$DELETE FROM list_members
                            WHERE list_id = pg_temp.list('groceries') AND user_id = 'tim'$$,   '1',     '0',     '0',     '0',     '0',     '0'),
('leave (remove oneself)', $$DELETE FROM list_members
                             WHERE list_id = pg_temp.list('groceries') AND user_id = pg_temp.me()$$, 'TD001', '1', '1',   '0',     '0',     '0'),
-- list_invitations
('see its invitations', $$SELECT FROM list_invitations WHERE list_id = pg_temp.list('groceries')$$, '4', '0',     '0',     '0',     '0',     '0'),
('create an invitation', $$INSERT INTO list_invitations (list_id, token_hash, role, max_uses, expires_at, created_by)
    VALUES (pg_temp.list('groceries'), sha256('new'), 'viewer', 1, now() + interval '1 day', pg_temp.me())$$,
                                                                                               '1',     '42501', '42501', '42501', '42501', '42501'),
('revoke an invitation', $$UPDATE list_invitations SET revoked_at = now() WHERE token_hash = sha256('valid')$$,
                                                                                               '1',     '0',     '0',     '0',     '0',     '0'),
('reset an invitation''s uses', $$UPDATE list_invitations SET uses = 0 WHERE token_hash = sha256('used up')$$,
                                                                                               '42501', '42501', '42501', '42501', '42501', '42501'),
('join by a valid invitation', $$SELECT FROM app.accept_invitation(sha256('valid')) WHERE outcome = 'joined'$$,
                                                                                               '0',     '0',     '0',     '1',     '0',     '0'),
('join by an expired invitation', $$SELECT FROM app.accept_invitation(sha256('expired')) WHERE outcome = 'joined'$$,
                                                                                               '0',     '0',     '0',     '0',     '0',     '0'),
('join by a revoked invitation', $$SELECT FROM app.accept_invitation(sha256('revoked')) WHERE outcome = 'joined'$$,
                                                                                               '0',     '0',     '0',     '0',     '0',     '0'),
('join by a used-up invitation', $$SELECT FROM app.accept_invitation(sha256('used up')) WHERE outcome = 'joined'$$,
                                                                                               '0',     '0',     '0',     '0',     '0',     '0'),
-- todos in the list
('see its todos', $$SELECT FROM todos WHERE list_id = pg_temp.list('groceries')$$,             '2',     '2',     '2',     '0',     '0',     '0'),
('add a todo', $$INSERT INTO todos (list_id, user_id, title) VALUES (pg_temp.list('groceries'), pg_temp.me(), 'bread')$$,
                                                                                               '1',     '1',     '42501', '42501', '42501', '42501'),
('change its todos', $$UPDATE todos SET completed = true WHERE list_id = pg_temp.list('groceries')$$, '2', '2',   '0',     '0',     '0',     '0'),
('delete its todos', $$DELETE FROM todos WHERE list_id = pg_temp.list('groceries')$$,          '2',     '2',     '0',     '0',     '0',     '0'),
('move a todo out, into a list one only views or is not in',
    $$UPDATE todos SET list_id = pg_temp.list('nora''s') WHERE title = 'milk'$$,               '42501', '42501', '0',     '0',     '0',     '0'),
('move a todo in, from a list one owns',
    $$UPDATE todos SET list_id = pg_temp.list('groceries') WHERE title = 'nora 1'$$,           '0',     '0',     '0',     '42501', '0',     '0');

-- The "unset" column runs first: once a session has set app.user_id, even in
-- a rolled-back transaction, it reads '' instead of NULL.
SELECT is(current_setting('app.user_id', true), NULL, 'app.user_id has never been set in this session');
CREATE FUNCTION pg_temp.run_matrix() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT m.op, m.stmt, a.caller, a.who, a.want
        FROM matrix m, LATERAL (VALUES
            (1, 'no identity (unset)', NULL, m.unset), (2, 'empty identity', '', m.empty),
            (3, 'owner', 'olga', m.owner), (4, 'editor', 'eddie', m.editor),
            (5, 'viewer', 'vera', m.viewer), (6, 'non-member', 'nora', m.non_member)) a(k, caller, who, want)
        ORDER BY a.k, m.n
    LOOP
        RETURN NEXT is(pg_temp.try(c.who, c.stmt), c.want, c.caller || ': ' || c.op);
    END LOOP;
END
$$;
GRANT UPDATE (list_id) ON todos TO todo_app; -- rolled back with the rest
SELECT * FROM pg_temp.run_matrix();
REVOKE UPDATE (list_id) ON todos FROM todo_app;
SELECT is(current_setting('app.user_id', true), '', 'try() undid everything but the defined setting');
SELECT results_eq($$SELECT name, (SELECT count(*)::int FROM list_members m WHERE m.list_id = l.id),
                           (SELECT count(*)::int FROM todos t WHERE t.list_id = l.id) FROM lists l ORDER BY name$$,
    $$VALUES ('Groceries', 4, 2), ('Nora''s', 2, 1)$$, 'and the matrix left every list, member and todo as it was');

-- ---------------------------------------------------------------- joining by invitation
SELECT pg_temp.act_as('todo_app', 'nora');
SELECT results_eq($$SELECT outcome, role FROM app.accept_invitation(sha256('valid'))$$,
    $$VALUES ('joined', 'editor')$$, 'a valid invitation makes the invitee a member with its role');
SELECT results_eq($$SELECT title FROM todos WHERE list_id = pg_temp.list('groceries') ORDER BY title$$,
    ARRAY['eggs', 'milk'], 'the new member sees the list''s todos at once');
SELECT results_eq($$SELECT outcome, role FROM app.accept_invitation(sha256('valid'))$$,
    $$VALUES ('member', 'editor')$$, 'accepting again changes nothing');
SELECT pg_temp.act_as('todo_app', 'vera');
SELECT results_eq($$SELECT outcome, role FROM app.accept_invitation(sha256('valid'))$$,
    $$VALUES ('member', 'viewer')$$, 'a member keeps their role: a viewer cannot promote herself with an editor''s link');
SELECT pg_temp.act_as('todo_app', 'xena');
SELECT results_eq($$SELECT outcome, role FROM app.accept_invitation(sha256('expired'))$$,
    $$VALUES ('expired', NULL::text)$$, 'an expired invitation admits no one');
SELECT results_eq($$SELECT outcome, role FROM app.accept_invitation(sha256('revoked'))$$,
    $$VALUES ('revoked', NULL::text)$$, 'a revoked invitation admits no one');
SELECT results_eq($$SELECT outcome, role FROM app.accept_invitation(sha256('used up'))$$,
    $$VALUES ('used_up', NULL::text)$$, 'a used-up invitation admits no one');
SELECT is_empty($$SELECT * FROM app.accept_invitation(sha256('no such token'))$$, 'an unknown token: no answer at all');
SELECT is_empty($$SELECT FROM list_members WHERE list_id = pg_temp.list('groceries')$$, 'and xena is in no list');
SELECT pg_temp.act_as('todo_app', '');
SELECT is_empty($$SELECT * FROM app.accept_invitation(sha256('valid'))$$, 'without identity nobody joins');
SELECT pg_temp.act_as('todo_app', 'olga');
SELECT results_eq($$SELECT uses FROM list_invitations WHERE token_hash = sha256('valid')$$, ARRAY[1],
    'only the one who joined used the invitation up');
INSERT INTO list_invitations (list_id, token_hash, role, max_uses, expires_at, created_by)
VALUES (pg_temp.list('groceries'), sha256('once'), 'viewer', 1, now() + interval '1 day', 'olga');
SELECT pg_temp.act_as('todo_app', 'yuri');
SELECT results_eq($$SELECT outcome FROM app.accept_invitation(sha256('once'))$$, ARRAY['joined'], 'a one-use invitation admits one');
SELECT pg_temp.act_as('todo_app', 'zack');
SELECT results_eq($$SELECT outcome FROM app.accept_invitation(sha256('once'))$$, ARRAY['used_up'], 'and then no one else');
-- In nora's list, olga is made an owner, makes a link, and is removed.
SELECT pg_temp.act_as('todo_app', 'nora');
UPDATE list_members SET role = 'owner' WHERE list_id = pg_temp.list('nora''s') AND user_id = 'olga';
SELECT pg_temp.act_as('todo_app', 'olga');
INSERT INTO list_invitations (list_id, token_hash, role, max_uses, expires_at, created_by)
VALUES (pg_temp.list('nora''s'), sha256('olga''s link'), 'editor', 5, now() + interval '1 day', 'olga');
SELECT pg_temp.act_as('todo_app', 'nora');
DELETE FROM list_members WHERE list_id = pg_temp.list('nora''s') AND user_id = 'olga';
SELECT pg_temp.act_as('todo_app', 'olga');
SELECT results_eq($$SELECT outcome, role FROM app.accept_invitation(sha256('olga''s link'))$$,
    $$VALUES ('revoked', NULL::text)$$, 'a removed owner cannot rejoin by her own link');
SELECT pg_temp.act_as('todo_app', 'xena');
SELECT results_eq($$SELECT outcome FROM app.accept_invitation(sha256('olga''s link'))$$, ARRAY['revoked'],
    'nor let anyone else in by it: an invitation dies with its maker''s ownership');
SELECT pg_temp.act_as('todo_app', 'nora');
INSERT INTO list_members (list_id, user_id, role, added_by) VALUES (pg_temp.list('nora''s'), 'olga', 'viewer', 'nora');
SELECT pg_temp.act_as('todo_app', 'xena');
SELECT results_eq($$SELECT outcome FROM app.accept_invitation(sha256('olga''s link'))$$, ARRAY['revoked'],
    'back as a viewer, her link still admits no one');

-- ---------------------------------------------------------------- the audit trail of sharing
SELECT pg_temp.act_as('todo_app', 'olga');
SELECT set_config('app.request_id', 'req-share', true);
INSERT INTO list_members (list_id, user_id, role, added_by) VALUES (pg_temp.list('groceries'), 'newbie', 'viewer', 'olga');
UPDATE list_members SET role = 'editor' WHERE list_id = pg_temp.list('groceries') AND user_id = 'newbie';
DELETE FROM list_members WHERE list_id = pg_temp.list('groceries') AND user_id = 'newbie';
INSERT INTO list_invitations (list_id, token_hash, role, max_uses, expires_at, created_by)
VALUES (pg_temp.list('groceries'), sha256('audited'), 'viewer', 3, now() + interval '1 day', 'olga');
UPDATE list_invitations SET revoked_at = now() WHERE token_hash = sha256('audited');
SELECT pg_temp.act_as('todo_app', 'walt');
SELECT set_config('app.request_id', 'req-join', true);
SELECT outcome FROM app.accept_invitation(sha256('valid'));
SELECT set_config('app.request_id', '', true);
RESET ROLE;
SELECT results_eq($$
    SELECT table_name, action, user_id, db_role, list_id::text, coalesce(after, before)->>'user_id',
           before->>'role', after->>'role', coalesce(after, before)->>'added_by'
    FROM audit.list_changes WHERE request_id = 'req-share' AND table_name = 'list_members' ORDER BY id$$,
    $$VALUES ('list_members', 'INSERT', 'olga', 'todo_app', '00000000-0000-4000-8000-00000000a001', 'newbie', NULL, 'viewer', 'olga'),
             ('list_members', 'UPDATE', 'olga', 'todo_app', '00000000-0000-4000-8000-00000000a001', 'newbie', 'viewer', 'editor', 'olga'),
             ('list_members', 'DELETE', 'olga', 'todo_app', '00000000-0000-4000-8000-00000000a001', 'newbie', 'editor', NULL, 'olga')$$,
    'adding, re-roling and removing a member: who did it, to whom, with what role, in which list and request');
SELECT results_eq($$
    SELECT action, user_id, after->>'role', before->>'revoked_at' IS NULL, after->>'revoked_at' IS NULL
    FROM audit.list_changes WHERE request_id = 'req-share' AND table_name = 'list_invitations' ORDER BY id$$,
    $$VALUES ('INSERT', 'olga', 'viewer', true, true), ('UPDATE', 'olga', 'viewer', true, false)$$,
    'creating and revoking an invitation are recorded');
SELECT results_eq($$
    SELECT table_name, action, user_id, coalesce(after, before)->>'user_id', after->>'role', after->>'added_by', after->>'uses'
    FROM audit.list_changes WHERE request_id = 'req-join' ORDER BY id$$,
    $$VALUES ('list_invitations', 'UPDATE', 'walt', NULL, 'editor', NULL, '2'),
             ('list_members', 'INSERT', 'walt', 'walt', 'editor', 'olga', NULL)$$,
    'joining by invitation: the joiner acted, the inviter added them, the invitation was used once more');
SELECT isnt_empty($$SELECT FROM audit.list_changes WHERE table_name = 'list_invitations'$$, 'invitations are in the trail');
SELECT is_empty($$
    SELECT FROM audit.list_changes a JOIN list_invitations i
      ON concat(a.before::text, a.after::text) LIKE '%' || encode(i.token_hash, 'hex') || '%'
      OR a.before ? 'token_hash' OR a.after ? 'token_hash'$$,
    'no token hash ever reaches the audit trail');
SELECT pg_temp.act_as('todo_app', 'olga');
SELECT throws_ok($$DELETE FROM audit.list_changes$$, '42501', NULL, 'todo_app cannot delete the trail of sharing');
SELECT throws_ok($$SELECT * FROM audit.list_changes$$, '42501', NULL, 'todo_app cannot read the trail of sharing');

-- ---------------------------------------------------------------- the auditor reads all, changes nothing
SELECT pg_temp.act_as('todo_auditor', NULL);
SELECT results_eq($$SELECT count(*)::int FROM lists WHERE id IN (pg_temp.list('groceries'), pg_temp.list('nora''s'))$$,
    ARRAY[2], 'the auditor sees every list');
SELECT results_eq($$SELECT count(*)::int FROM list_members WHERE list_id = pg_temp.list('nora''s')$$,
    ARRAY[2], 'the auditor sees every membership');
SELECT results_eq($$SELECT count(*)::int FROM list_invitations WHERE list_id = pg_temp.list('groceries')$$,
    ARRAY[6], 'the auditor sees every invitation');
SELECT results_eq($$SELECT count(*)::int FROM audit.list_changes WHERE request_id IN ('req-share', 'req-join')$$,
    ARRAY[7], 'the auditor reads the trail of sharing');
SELECT throws_ok($$INSERT INTO lists (name, created_by) VALUES ('x', 'x')$$, '42501', NULL, 'the auditor cannot create lists');
SELECT throws_ok($$UPDATE lists SET name = 'x'$$, '42501', NULL, 'the auditor cannot rename lists');
SELECT throws_ok($$DELETE FROM lists$$, '42501', NULL, 'the auditor cannot delete lists');
SELECT throws_ok($$INSERT INTO list_members (list_id, user_id, role, added_by) VALUES (pg_temp.list('groceries'), 'x', 'owner', 'x')$$,
    '42501', NULL, 'the auditor cannot add members');
SELECT throws_ok($$UPDATE list_members SET role = 'owner'$$, '42501', NULL, 'the auditor cannot change roles');
SELECT throws_ok($$DELETE FROM list_members$$, '42501', NULL, 'the auditor cannot remove members');
SELECT throws_ok($$UPDATE list_invitations SET revoked_at = NULL$$, '42501', NULL, 'the auditor cannot un-revoke invitations');
SELECT throws_ok($$DELETE FROM list_invitations$$, '42501', NULL, 'the auditor cannot delete invitations');
SELECT throws_ok($$UPDATE audit.list_changes SET user_id = 'x'$$, '42501', NULL, 'the auditor cannot rewrite the trail');
SELECT throws_ok($$SELECT * FROM app.accept_invitation(sha256('valid'))$$, '42501', NULL, 'the auditor cannot join lists');

-- ---------------------------------------------------------------- the table owner: only what its functions need
RESET ROLE;
SELECT pg_temp.act_as((SELECT tableowner::text FROM pg_tables WHERE tablename = 'list_members'), 'olga');
SELECT isnt_empty($$SELECT FROM list_members$$, 'the owner reads memberships (app.my_lists, app.keep_an_owner need to)');
SELECT is_empty($$SELECT FROM todos$$, 'the owner sees no todo');
SELECT results_eq($$WITH u AS (UPDATE list_members SET role = 'owner' RETURNING 1) SELECT count(*)::int FROM u$$,
    ARRAY[0], 'the owner changes no role: no policy lets it');
SELECT results_eq($$WITH d AS (DELETE FROM list_members WHERE role <> 'owner' RETURNING 1) SELECT count(*)::int FROM d$$,
    ARRAY[0], 'the owner removes no member');
SELECT results_eq($$WITH u AS (UPDATE lists SET name = 'x' RETURNING 1) SELECT count(*)::int FROM u$$,
    ARRAY[0], 'the owner renames no list');
SELECT results_eq($$WITH d AS (DELETE FROM lists RETURNING 1) SELECT count(*)::int FROM d$$,
    ARRAY[0], 'the owner deletes no list');
SELECT results_eq($$WITH d AS (DELETE FROM list_invitations RETURNING 1) SELECT count(*)::int FROM d$$,
    ARRAY[0], 'the owner deletes no invitation');
RESET ROLE;

-- ---------------------------------------------------------------- removal applies at once
SELECT pg_temp.act_as('todo_app', 'olga');
DELETE FROM list_members WHERE list_id = pg_temp.list('groceries') AND user_id = 'eddie';
SELECT pg_temp.act_as('todo_app', 'eddie');
SELECT is_empty($$SELECT FROM todos WHERE list_id = pg_temp.list('groceries')$$, 'a removed member sees the list''s todos no more');
SELECT is_empty($$SELECT FROM lists WHERE id = pg_temp.list('groceries')$$, 'nor the list');
SELECT pg_temp.act_as('todo_app', 'olga');
UPDATE list_members SET role = 'viewer' WHERE list_id = pg_temp.list('groceries') AND user_id = 'nora';
SELECT pg_temp.act_as('todo_app', 'nora');
SELECT results_eq($$WITH u AS (UPDATE todos SET title = 'x' WHERE list_id = pg_temp.list('groceries') RETURNING 1) SELECT count(*)::int FROM u$$,
    ARRAY[0], 'an editor lowered to viewer changes nothing more');

-- ---------------------------------------------------------------- a list always keeps an owner
SELECT pg_temp.act_as('todo_app', 'olga');
SELECT throws_ok($$DELETE FROM list_members WHERE list_id = pg_temp.list('groceries') AND user_id = 'olga'$$,
    'TD001', NULL, 'the last owner cannot leave');
SELECT throws_ok($$UPDATE list_members SET role = 'editor' WHERE list_id = pg_temp.list('groceries') AND user_id = 'olga'$$,
    'TD001', NULL, 'the last owner cannot step down');
RESET ROLE;
SELECT throws_ok($$DELETE FROM list_members WHERE list_id = pg_temp.list('groceries') AND role = 'owner'$$,
    'TD001', NULL, 'not even a superuser removes the last owner');
SELECT pg_temp.act_as('todo_app', 'olga');
SELECT lives_ok($$UPDATE list_members SET role = 'owner' WHERE list_id = pg_temp.list('groceries') AND user_id = 'walt'$$,
    'an owner makes another owner');
SELECT throws_ok($$DELETE FROM list_members WHERE list_id = pg_temp.list('groceries') AND role = 'owner'$$,
    'TD001', NULL, 'removing both owners at once is refused');
SELECT lives_ok($$DELETE FROM list_members WHERE list_id = pg_temp.list('groceries') AND user_id = 'olga'$$,
    'with another owner, an owner may leave');
SELECT pg_temp.act_as('todo_app', 'walt');
SELECT throws_ok($$UPDATE list_members SET role = 'viewer' WHERE list_id = pg_temp.list('groceries') AND user_id = 'walt'$$,
    'TD001', NULL, 'and the one left is the last owner');
SELECT results_eq($$WITH d AS (DELETE FROM lists WHERE id = pg_temp.list('groceries') RETURNING 1) SELECT count(*)::int FROM d$$,
    ARRAY[1], 'the last owner may delete the whole list');
RESET ROLE;
SELECT results_eq($$SELECT (SELECT count(*) FROM todos WHERE list_id = pg_temp.list('groceries'))::int
                         + (SELECT count(*) FROM list_members WHERE list_id = pg_temp.list('groceries'))::int
                         + (SELECT count(*) FROM list_invitations WHERE list_id = pg_temp.list('groceries'))::int$$,
    ARRAY[0], 'and its todos, members and invitations go with it');
SELECT results_eq($$SELECT action, user_id FROM audit.list_changes WHERE table_name = 'lists' AND action = 'DELETE'$$,
    $$VALUES ('DELETE', 'walt')$$, 'who deleted the list is in the trail');

-- ---------------------------------------------------------------- a first todo makes its personal list
SELECT pg_temp.act_as('todo_app', 'newcomer');
SELECT lives_ok($$INSERT INTO todos (user_id, title) VALUES ('newcomer', 'first')$$,
    'a first todo without a list goes in: its personal list is made and seen in the same statement');
SELECT results_eq($$SELECT l.personal_of FROM todos t JOIN lists l ON l.id = t.list_id WHERE t.title = 'first'$$,
    ARRAY['newcomer'], 'into the personal list of its creator');
SELECT pg_temp.act_as('todo_app', 'nora');
SELECT throws_ok($$INSERT INTO todos (user_id, title) VALUES ('victim', 'planted')$$, '42501', NULL,
    'nobody writes into another person''s personal list');
RESET ROLE;
SELECT is_empty($$SELECT FROM lists WHERE personal_of = 'victim'$$, 'and the refused insert left no list behind');

-- ---------------------------------------------------------------- no recursion: policies read no table
-- A policy on list_members that read list_members would recurse forever. The
-- policies call app.my_lists(), which reads memberships as the table owner;
-- Postgres records every relation a policy reads, and there is none.
SELECT is_empty($$
    SELECT p.polrelid::regclass, p.polname, d.refobjid::regclass
    FROM pg_policy p JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = p.oid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> p.polrelid$$,
    'no policy reads a table (no subquery on list_members or any other): no recursion');
SELECT results_eq($$
    SELECT format('%s.%s', p.polrelid::regclass, p.polname) COLLATE "default" FROM pg_policy p
    WHERE p.polrelid IN ('lists'::regclass, 'list_members'::regclass, 'list_invitations'::regclass, 'todos'::regclass)
      AND 'todo_app'::regrole = ANY (p.polroles)
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                      AND d.refobjid = 'app.my_lists(text[])'::regprocedure)$$,
    ARRAY['lists.lists_insert_creator'],
    'every policy for todo_app on lists, members, invitations and todos asks app.my_lists, except creating a list');
SELECT pg_temp.act_as('todo_app', 'nora');
SELECT results_eq($$SELECT user_id FROM list_members ORDER BY user_id$$, ARRAY['nora', 'olga'],
    'todo_app reads list_members: only the memberships of its own lists');

-- ---------------------------------------------------------------- once per statement
-- The membership lookup runs once per statement: an InitPlan (run once, its
-- result an array the index condition uses) on lists, members and
-- invitations; a hashed SubPlan on todos (run once into a hash table, which
-- each row probes). Never a plain SubPlan, which runs once per row. The
-- tables of this test are tiny, so sequential scans are priced out to see
-- the plan the real tables get.
RESET ROLE;
CREATE FUNCTION pg_temp.plan(stmt text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    p jsonb;
BEGIN
    SET LOCAL enable_seqscan = off;
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || stmt INTO p;
    RETURN p;
END
$$;
CREATE FUNCTION pg_temp.subplans(stmt text) RETURNS text[] LANGUAGE sql AS $$
    SELECT ARRAY(SELECT DISTINCT r #>> '{}'
                 FROM jsonb_path_query(pg_temp.plan(stmt), 'strict $.**."Parent Relationship"') r
                 WHERE r #>> '{}' IN ('InitPlan', 'SubPlan') ORDER BY 1)
$$;
-- The SubPlans that stmt's plan runs once per row: those a condition names
-- as (SubPlan n), not (hashed SubPlan n). (A write's WITH CHECK is not shown
-- by EXPLAIN: its lookups are counted below.)
CREATE FUNCTION pg_temp.per_row(stmt text) RETURNS text[] LANGUAGE sql AS $$
    SELECT ARRAY(SELECT n #>> '{}'
                 FROM pg_temp.plan(stmt) p, jsonb_path_query(p, 'strict $.**."Subplan Name"') n
                 WHERE n #>> '{}' LIKE 'SubPlan %' AND strpos(p::text, '(' || (n #>> '{}') || ')') > 0)
$$;
SELECT pg_temp.act_as('todo_app', 'olga');
SELECT is(pg_temp.subplans($$SELECT * FROM todos WHERE list_id = '00000000-0000-4000-8000-00000000a002'
                              ORDER BY created_at DESC, id DESC LIMIT 20$$),
    '{SubPlan}', 'one list''s todos: the membership lookup is a SubPlan');
SELECT is(pg_temp.per_row($$SELECT * FROM todos WHERE list_id = '00000000-0000-4000-8000-00000000a002'
                            ORDER BY created_at DESC, id DESC LIMIT 20$$),
    '{}', 'a hashed one: it runs once per statement');
SELECT ok(jsonb_path_exists(pg_temp.plan($$SELECT * FROM todos WHERE list_id = '00000000-0000-4000-8000-00000000a002'
                                           ORDER BY created_at DESC, id DESC LIMIT 20$$),
    '$.** ? (@."Filter" like_regex "^\\(hashed SubPlan [0-9]+\\)$")')
    AND NOT jsonb_path_exists(pg_temp.plan($$SELECT * FROM todos WHERE list_id = '00000000-0000-4000-8000-00000000a002'
                                              ORDER BY created_at DESC, id DESC LIMIT 20$$), '$.** ? (@."Node Type" == "Seq Scan")'),
    'which each row read through an index of list_id probes');
SELECT is(pg_temp.per_row($$SELECT * FROM todos WHERE NOT completed ORDER BY created_at DESC, id DESC LIMIT 20$$),
    '{}', 'all my todos: once per statement');
SELECT is(pg_temp.per_row($$UPDATE todos SET completed = true WHERE title = 'x'$$), '{}', 'updating todos: once per statement');
SELECT is(pg_temp.per_row($$DELETE FROM todos WHERE title = 'x'$$), '{}', 'deleting todos: once per statement');
SELECT is(pg_temp.subplans($$SELECT * FROM lists$$), '{InitPlan}', 'lists: once per statement');
SELECT is(pg_temp.subplans($$SELECT * FROM list_members$$), '{InitPlan}', 'list_members: once per statement');
SELECT is(pg_temp.subplans($$SELECT * FROM list_invitations$$), '{InitPlan}', 'list_invitations: once per statement');

-- What EXPLAIN does not show, the lookups of a write's WITH CHECK, counted:
-- a write of 50 rows looks the memberships up as often as a write of one.
RESET ROLE;
SET LOCAL track_functions = 'pl';
CREATE FUNCTION pg_temp.lookups(stmt text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    f      constant regprocedure := 'app.my_lists(text[])';
    before constant bigint := coalesce(pg_stat_get_xact_function_calls(f), 0);
BEGIN
    EXECUTE stmt;
    RETURN coalesce(pg_stat_get_xact_function_calls(f), 0) - before;
END
$$;
INSERT INTO lists (id, name, created_by) VALUES ('00000000-0000-4000-8000-00000000a0ff', 'Bulk', 'walt');
SELECT pg_temp.act_as('todo_app', 'walt');
SELECT is(pg_temp.lookups($$INSERT INTO todos (user_id, title, list_id)
                            SELECT 'walt', 'bulk ' || n, '00000000-0000-4000-8000-00000000a0ff' FROM generate_series(1, 50) n$$),
          pg_temp.lookups($$INSERT INTO todos (user_id, title, list_id) VALUES ('walt', 'one', '00000000-0000-4000-8000-00000000a0ff')$$),
          'adding 50 todos looks the memberships up as often as adding one');
SELECT is(pg_temp.lookups($$UPDATE todos SET completed = true WHERE title LIKE 'bulk %'$$),
          pg_temp.lookups($$UPDATE todos SET completed = true WHERE title = 'one'$$),
          'changing 50 todos: as often as changing one');
SELECT cmp_ok(pg_temp.lookups($$UPDATE todos SET completed = false WHERE title LIKE 'bulk %'$$), '>', 0::bigint,
          'and the count sees them');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

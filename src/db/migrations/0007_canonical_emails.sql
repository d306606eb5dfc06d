-- Addresses are now stored in their canonical form (src/lib/email.ts): NFKC, lower case, IDNA
-- domain. Rows written before were only trimmed and lower-cased, so a fullwidth or compatibility
-- spelling could sit next to the plain one. This rewrites each row to its NFKC form unless that
-- form is already taken; when several rows fold into one free address, the verified then the
-- oldest row gets it. Rows left as they were (taken form, a non-ASCII domain that needs IDNA,
-- syntax no longer accepted) can no longer be signed into by address; the operations guide
-- lists them with one query. Nothing is deleted: which row is the person's is an operator's call.
UPDATE "users" AS u SET "email" = c."canonical"
FROM (
  SELECT DISTINCT ON (s."canonical") s."id", s."canonical"
  FROM (
    SELECT "id", "email", "email_verified", "created_at",
      lower(btrim(normalize("email", NFKC))) AS "canonical"
    FROM "users"
  ) AS s
  WHERE s."canonical" <> s."email"
  ORDER BY s."canonical", s."email_verified" DESC, s."created_at", s."id"
) AS c
WHERE u."id" = c."id"
  AND NOT EXISTS (SELECT 1 FROM "users" AS o WHERE o."email" = c."canonical");

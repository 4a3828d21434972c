package store

// DeleteExpiredRunsQuery is the retention delete's SQL, for the test of its plan.
const DeleteExpiredRunsQuery = deleteExpiredRunsQuery

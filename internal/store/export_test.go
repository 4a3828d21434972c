package store

// ListRunsByStatusQuery is the filtered run list's SQL, for the test of its plan.
const ListRunsByStatusQuery = listRunsByStatus

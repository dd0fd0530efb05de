// Package boundaries holds the test that keeps imgaudit's packages within
// the import boundaries of ARCHITECTURE.md: only pkg/fetch talks to a
// registry, pkg/layers and pkg/checks never see the network, renderers and
// the report model do no I/O of their own, and cmd/ holds no logic.
package boundaries

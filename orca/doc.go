// Package orca holds the OpenOrca record type and what orcaprep knows about the dataset:
// its schema, its FLAN submixes, and a parallel, streaming Parquet page reader (README.md).
package orca

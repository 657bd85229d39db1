// Package orca holds the OpenOrca record type and what orcaprep knows about the dataset:
// its schema, its FLAN submixes, and a streaming Parquet reader.
package orca

// Package ordered restores input order for results that parallel workers finish out of order, so that
// output is the same whatever the number of workers.
package ordered

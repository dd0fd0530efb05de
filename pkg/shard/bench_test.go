package shard_test

import (
	"fmt"
	"testing"

	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/shard"
)

// BenchmarkMerge merges the 4 shards of a 10,000-image audit (2,000
// repositories of 5 tags, findings in half the images): the merge step's
// cost for a large registry.
//
//	go test ./pkg/shard -run NONE -bench Merge -benchtime 3x
func BenchmarkMerge(b *testing.B) {
	t := &testing.T{}
	var imgs []report.Image
	for r := 0; r < 2000; r++ {
		for tag := 0; tag < 5; tag++ {
			imgs = append(imgs, image(fmt.Sprintf("reg.example/team-%d/app:%d", r, tag), r*5+tag+1))
		}
	}
	files := shardFiles(t, imgs, 4)
	size := 0
	for _, f := range files {
		size += len(f)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		r, err := shard.Merge(inputs(files))
		if err != nil || len(r.Images) != len(imgs) {
			b.Fatalf("%v, %d images", err, len(r.Images))
		}
	}
	b.ReportMetric(float64(len(imgs)), "images")
}

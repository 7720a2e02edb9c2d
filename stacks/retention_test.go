package stacks

import (
	"testing"

	"github.com/hybrid-llm/platform/config"
)

func TestRetentionCoversEveryConfigValue(t *testing.T) {
	for _, d := range config.LogRetentionDays {
		if _, ok := retentionByDays[d]; !ok {
			t.Errorf("config allows %d days, which has no CDK enum", d)
		}
	}
	if len(retentionByDays) != len(config.LogRetentionDays) {
		t.Errorf("%d enum entries, %d config values", len(retentionByDays), len(config.LogRetentionDays))
	}
}

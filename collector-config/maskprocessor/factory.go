// Package maskprocessor masks secrets and personal data in telemetry: every match of a list of RE2 patterns, in
// every string value of a signal's attributes and of a log's body. It does what the contrib redaction processor does
// with `allow_all_keys`, `ignored_keys`, `blocked_values` and a silent summary, at a fraction of its CPU: a pattern
// runs only on a value that holds one of the literals its matches need (a substring search), so the common value,
// with no `@`, no `=`, no token prefix, costs a few scans of its bytes instead of one RE2 run per pattern.
package maskprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var componentType = component.MustNewType("mask")

// NewFactory returns the factory of the mask processor (traces and logs).
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config { return &Config{} },
		processor.WithTraces(createTraces, component.StabilityLevelAlpha),
		processor.WithLogs(createLogs, component.StabilityLevelAlpha),
	)
}

var mutates = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	m, err := newMasker(cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, m.processTraces, mutates)
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	m, err := newMasker(cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, m.processLogs, mutates)
}

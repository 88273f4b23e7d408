/**
 * The Sluice authoring SDK: what pipeline code imports.
 *
 * @example
 * import { definePipeline, daily, requirePartition } from 'sluice';
 */
export { definePipeline } from './define-pipeline.ts';
export type { PipelineBuilder, PipelineDeclaration, WindowOf } from './define-pipeline.ts';
export { requirePartition } from './require-partition.ts';
export { pipeline, parseParams } from './pipeline.ts';
export type { PipelineDef, PipelineOptions, ScheduleDef } from './pipeline.ts';
export { step, DEFAULT_RETRY } from './step.ts';
export type { StepDef, StepOptions, RetryPolicy } from './step.ts';
export { asset } from './asset.ts';
export type { AssetDef, AssetKind, AssetOptions } from './asset.ts';
export { check } from './check.ts';
export type { CheckDef, CheckOutcome, CheckOptions } from './check.ts';
export { daily, monthly } from './partitions.ts';
export type { AssetRef, StepContext, StepLogger } from './context.ts';
export type { PartitionWindow, PartitionsDef } from '../core/partitions.ts';
export type { Warehouse } from '../ports/warehouse.ts';
export type { ObjectStore } from '../ports/object-store.ts';
export { csvRecords } from './csv-records.ts';
export type { CsvOptions, CsvRecord, CsvStats, CsvWarning } from './csv-records.ts';
export { resolveSources } from './sources.ts';
export { fetchJson } from './fetch-json.ts';
export { sleep } from './sleep.ts';
export { socketLookup } from './socket-lookup.ts';
export { connector } from './connector/connector.ts';
export type { ConnectorOptions, ConnectorRoute } from './connector/connector.ts';
export { topicSink } from './connector/topic-sink.ts';
export type { SinkCounters, TopicSink, TopicSinkOptions } from './connector/topic-sink.ts';
export type { StreamHandle } from './context.ts';
export type { DataTopics, DataRecord, TopicReader } from '../ports/data-topics.ts';
export type { JsonResponse } from './fetch-json.ts';
export type { ResolveSourcesOptions, SourceDescription, SourceFile } from './sources.ts';
export type { SourcePolicy } from './source-policy.ts';
export { replacePartitions } from './replace-partitions.ts';
export type { ReplacePartitionsOptions } from './replace-partitions.ts';
export { SluiceError, ValidationError } from '../core/errors.ts';
export { nonRetryable, retryable } from './retry-errors.ts';
export { noData } from './no-data.ts';
export { NoData } from '../core/no-data.ts';

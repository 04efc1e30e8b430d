// Shapes shared by the simulator's modules.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface KObj {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: Json;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** One served resource (built-in or from a CRD). */
export interface ResourceType {
  group: string;
  /** Versions served; the first is the preferred (and storage) version. */
  versions: string[];
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  statusSubresource: boolean;
  scale?: ScaleSubresource;
  /** Extra subresources besides status/scale (e.g. pods: log, eviction). */
  extraSubresources: string[];
  /** Field selectors accepted besides metadata.name / metadata.namespace. */
  selectableFields: string[];
  /** Set when the resource is served from a CustomResourceDefinition. */
  crd?: CrdServing;
}

export interface CrdServing {
  crdName: string;
  /** openAPIV3Schema per version. */
  schemas: Record<string, Json | undefined>;
  printerColumns: Record<string, PrinterColumn[]>;
  preserveUnknownFields: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  rv: number;
  type: WatchEventType;
  typeKey: string;
  obj: KObj;
  /** The object before this change (MODIFIED/DELETED). */
  prev?: KObj;
}

export const typeKeyOf = (group: string, resource: string): string => `${group}/${resource}`;
export const apiVersionOf = (group: string, version: string): string => (group ? `${group}/${version}` : version);

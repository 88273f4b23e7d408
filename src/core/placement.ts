import { z } from 'zod';

/** A Kubernetes resource quantity as `kubectl` writes it: `500m`, `2`, `512Mi`, `1G`. */
const quantity = z.string().max(32).regex(/^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, 'a quantity such as 500m, 2, 512Mi or 1Gi');
const labelValue = z.string().max(63).regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'a Kubernetes label value');

export const tolerationSchema = z.object({
  key: z.string().max(253).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().max(63).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().nonnegative().optional(),
}).strict();

/**
 * Where a step's attempts run when the launcher places them (Kubernetes): what they ask
 * for, the node pool, tolerations, the image. Launchers that run attempts in their own
 * process ignore it.
 */
export const placementSchema = z.object({
  resources: z.object({
    cpu: quantity.optional(),
    memory: quantity.optional(),
  }).strict().optional(),
  /** The value of the node-pool label (the cluster config names the label; GKE's by default). */
  nodePool: labelValue.min(1).optional(),
  tolerations: z.array(tolerationSchema).max(20).optional(),
  image: z.string().min(1).max(512).regex(/^[^\s]+$/, 'an image reference without spaces').optional(),
}).strict();

export type Placement = z.infer<typeof placementSchema>;
export type Toleration = z.infer<typeof tolerationSchema>;

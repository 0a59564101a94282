// Wire formats of Stratum's own API (collections, search, memory) and the
// `stratum` extension field clients may add to a chat request.
import { z } from "zod";

const Scalar = z.union([z.string().max(1_000), z.number(), z.boolean()]);
const FIELD = /^[A-Za-z0-9_.-]{1,64}$/;

export const MetadataFilterSchema = z
  .record(
    z.string().regex(FIELD, "filter fields use letters, digits, _ . - (at most 64)"),
    z.union([
      Scalar,
      z.strictObject({ in: z.array(Scalar).min(1).max(100) }),
      z.strictObject({ gte: Scalar.optional(), lte: Scalar.optional(), gt: Scalar.optional(), lt: Scalar.optional() }),
    ]),
  )
  .refine((f) => Object.keys(f).length <= 16, "at most 16 filter fields");

export const MetadataSchema = z
  .record(z.string().regex(FIELD, "metadata keys use letters, digits, _ . - (at most 64)"), Scalar)
  .refine((m) => Object.keys(m).length <= 64, "at most 64 metadata fields");

/** `stratum` in a chat request to a pipeline. */
export const PipelineRequestExtSchema = z.looseObject({
  filter: MetadataFilterSchema.optional(),
});

export const CollectionNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "collection names use letters, digits, _ . - (1-64)");

export const CreateCollectionSchema = z.strictObject({ name: CollectionNameSchema });

export const SearchRequestSchema = z.strictObject({
  query: z.string().min(1, "query must be a non-empty string").max(10_000),
  k: z.number().int().min(1).max(100).default(5),
  mode: z.enum(["hybrid", "lexical", "dense"]).default("hybrid"),
  filter: MetadataFilterSchema.optional(),
  mmr: z.union([z.number().min(0).max(1), z.literal(false)]).default(false),
});

/** Add a document: text content, base64 bytes (e.g. a PDF), or a URL to fetch. */
export const AddDocumentSchema = z
  .strictObject({
    source: z.string().min(1).max(1_024).optional(),
    content: z.string().optional(),
    content_base64: z.string().optional(),
    url: z.url().optional(),
    /** Picks the parser when the source name has no telling extension. */
    mime: z.string().max(128).optional(),
    metadata: MetadataSchema.optional(),
    /** Queue the ingestion (any replica's worker runs it); the reply is a job to poll at /v1/jobs/:id. */
    async: z.boolean().optional(),
  })
  .refine((d) => [d.content, d.content_base64, d.url].filter((x) => x !== undefined).length === 1, "give exactly one of content, content_base64 or url")
  .refine((d) => d.url !== undefined || d.source !== undefined, { message: "source (a file name such as notes.md) is required with content", path: ["source"] });

export const AddMemorySchema = z.strictObject({
  user: z.string().min(1).max(256),
  text: z.string().min(1).max(4_000),
  tags: z.array(z.string().max(64)).max(16).optional(),
});

export type AddDocument = z.infer<typeof AddDocumentSchema>;

/**
 * The errors of the raft storage ports (LogStore, StableStore, SnapshotStore). They stay inside the
 * process, hence Data.TaggedError. `reason` lets the runtime branch without parsing messages:
 *   - Compacted / Unavailable: a read outside [firstIndex, lastIndex] (etcd's ErrCompacted/ErrUnavailable);
 *   - NonContiguous / Invalid: the caller broke a precondition (a runtime bug, never a disk problem);
 *   - Corrupt: stored bytes fail their checksum on read (after open, where a bad tail is truncated instead);
 *   - Io: the operating system refused. An fsync error must be treated as fatal by the runtime: after a
 *     failed fsync the page cache state is unknown ("fsyncgate"), so retrying could acknowledge lost data.
 */
import { Data } from "effect"

export type StorageErrorReason = "Compacted" | "Unavailable" | "NonContiguous" | "Invalid" | "Corrupt" | "Io" | "Locked"

export class RaftStorageError extends Data.TaggedError("RaftStorageError")<{
  readonly op: string
  readonly reason: StorageErrorReason
  readonly message: string
  readonly cause?: unknown
}> {}

export type SnapshotErrorReason = "NotFound" | "ChecksumMismatch" | "Invalid" | "Corrupt" | "Io"

export class SnapshotStoreError extends Data.TaggedError("SnapshotStoreError")<{
  readonly op: string
  readonly reason: SnapshotErrorReason
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A snapshot chunk arrived at an offset other than the one the receiver expects (a lost or duplicated
 * InstallSnapshot). Nothing was written; the follower answers with `expected` so the leader resumes there
 * (thesis §5.1 chunked InstallSnapshot; core/raft/Message.ts InstallSnapshotResp.nextOffset).
 */
export class SnapshotOffsetMismatch extends Data.TaggedError("SnapshotOffsetMismatch")<{
  readonly offset: number
  readonly expected: number
}> {}

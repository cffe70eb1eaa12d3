// The media type an offer names (proto-spec/files.md §3): from the file name's extension, for
// the receiver's display only; anything not listed is application/octet-stream (RFC 2046 §4.5.1).
import { extname } from 'node:path'

const BY_EXTENSION: Record<string, string> = {
  '.txt': 'text/plain', '.md': 'text/markdown', '.html': 'text/html', '.csv': 'text/csv', '.json': 'application/json',
  '.pdf': 'application/pdf', '.zip': 'application/zip', '.gz': 'application/gzip', '.tar': 'application/x-tar',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg', '.ogg': 'audio/ogg', '.wav': 'audio/wav', '.mp4': 'video/mp4', '.webm': 'video/webm', '.mkv': 'video/x-matroska'
}

export function mediaTypeOf (name: string): string {
  return BY_EXTENSION[extname(name).toLowerCase()] ?? 'application/octet-stream'
}

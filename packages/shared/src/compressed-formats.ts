/**
 * File formats that are compressed already (images, audio, video, archives, office
 * documents, which are zips): deflate costs CPU on them and saves nothing, so the
 * snapshot stores them as they are — as `zip -n` does. By the file name's extension,
 * case-insensitive. The export's zip and `bench export`'s `zip -n` baseline share the
 * list.
 */
export const COMPRESSED_FORMAT_EXTENSIONS: readonly string[] = [
  "jpg",
  "jpeg",
  "png",
  "gif",
  "webp",
  "heic",
  "heif",
  "avif",
  "mp3",
  "m4a",
  "aac",
  "ogg",
  "oga",
  "opus",
  "flac",
  "mp4",
  "m4v",
  "mov",
  "webm",
  "mkv",
  "avi",
  "zip",
  "gz",
  "tgz",
  "bz2",
  "xz",
  "zst",
  "7z",
  "rar",
  "jar",
  "docx",
  "xlsx",
  "pptx",
  "odt",
  "ods",
  "odp",
  "epub",
];

const EXTENSIONS = new Set(COMPRESSED_FORMAT_EXTENSIONS);

/** Whether `fileName` (a name, not a path) has the extension of a compressed format. */
export function isCompressedFormat(fileName: string): boolean {
  const dot = fileName.lastIndexOf(".");
  return dot > 0 && EXTENSIONS.has(fileName.slice(dot + 1).toLowerCase());
}

import { useState } from 'react';

/**
 * Copies `text` to the clipboard and says so.
 *
 * @example
 * ```tsx
 * <CopyButton text={secret} label="Copy key" />
 * ```
 */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-secondary"
      onClick={() => {
        void navigator.clipboard.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

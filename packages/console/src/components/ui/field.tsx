import { useId, type ReactNode } from 'react';

/**
 * A labelled form field with its validation messages right under it, tied to the control by
 * `aria-describedby` and `aria-invalid`.
 *
 * @example
 * ```tsx
 * <Field label="Key" errors={err?.at('key')}>{(p) => <input {...p} />}</Field>
 * ```
 */
export function Field({
  label,
  errors = [],
  hint,
  children,
}: {
  label: string;
  errors?: string[] | undefined;
  hint?: string;
  children: (props: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const described = [errors.length > 0 ? `${id}-err` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(errors.length > 0 ? { 'aria-invalid': true as const } : {}),
        ...(described ? { 'aria-describedby': described } : {}),
      })}
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {errors.length > 0 && (
        <p id={`${id}-err`} className="field-error" role="alert">
          {errors.join('; ')}
        </p>
      )}
    </div>
  );
}

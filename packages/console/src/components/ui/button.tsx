import type { ButtonHTMLAttributes } from 'react';

/** Button variants. */
export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

/**
 * A button. Disabled buttons stay focusable-looking and say why through `disabledReason`
 * (as a title and an accessible description), so a role's limits are visible.
 *
 * @example
 * ```tsx
 * <Button variant="primary" disabled={!allowed} disabledReason="Viewers cannot create flags">New flag</Button>
 * ```
 */
export function Button({
  variant = 'secondary',
  disabledReason,
  className,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; disabledReason?: string | undefined }) {
  const title = rest.disabled === true && disabledReason !== undefined ? disabledReason : rest.title;
  return <button type={type} className={`btn btn-${variant}${className ? ` ${className}` : ''}`} {...rest} title={title} />;
}

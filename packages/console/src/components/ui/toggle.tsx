import * as SwitchPrimitive from '@radix-ui/react-switch';

/**
 * An on/off switch (Radix Switch: role `switch`, Space/Enter toggle). `label` is its accessible
 * name; keep the environment in it for per-environment switches.
 *
 * @example
 * ```tsx
 * <Toggle label="new-checkout in production" checked={on} onCheckedChange={setOn} />
 * ```
 */
export function Toggle({
  label,
  checked,
  disabled,
  onCheckedChange,
  title,
}: {
  label: string;
  checked: boolean;
  disabled?: boolean | undefined;
  onCheckedChange: (v: boolean) => void;
  title?: string | undefined;
}) {
  return (
    <SwitchPrimitive.Root
      className="toggle"
      aria-label={label}
      checked={checked}
      disabled={disabled}
      onCheckedChange={onCheckedChange}
      title={title}
    >
      <SwitchPrimitive.Thumb className="toggle-thumb" />
    </SwitchPrimitive.Root>
  );
}

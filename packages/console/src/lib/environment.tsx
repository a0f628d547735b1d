import { createContext, use, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { untyped } from './api/untyped';
import { ApiError } from './api/api-error';
import { setRequestEnvironment } from './api/client';

/** An environment as the console shows it. */
export interface Environment {
  key: string;
  name: string;
  color?: string | null;
  protected: boolean;
}

interface EnvironmentValue {
  environments: Environment[];
  /** Whether the server has environments at all (older servers act in one implicit environment). */
  supported: boolean;
  current: Environment;
  /** The server's default environment (where a request without `?environment=` acts). */
  defaultKey: string;
  select(key: string): void;
}

const EnvironmentContext = createContext<EnvironmentValue | null>(null);

// A server without the environments resource acts in one environment: production.
const IMPLICIT: Environment = { key: 'production', name: 'Production', protected: false };
const STORAGE_KEY = 'switchyard.console.environment';

async function fetchEnvironments(): Promise<{ list: Environment[]; supported: boolean; defaultKey: string }> {
  try {
    const { data, meta } = await untyped<{ attributes: Environment & { key?: string }; id: string }[]>(
      'GET',
      '/api/v1/environments?limit=200',
    );
    const defaultKey = (meta as unknown as { default_environment?: string } | undefined)?.default_environment ?? IMPLICIT.key;
    return { list: data.map((r) => ({ ...r.attributes, key: r.attributes.key ?? r.id })), supported: true, defaultKey };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.message.startsWith('no route'))
      return { list: [IMPLICIT], supported: false, defaultKey: IMPLICIT.key };
    throw err;
  }
}

/**
 * The environment switcher's state. The choice (a key, not a credential) is remembered in
 * localStorage so a reload stays where the person was; every API request carries it.
 */
export function EnvironmentProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const query = useQuery({ queryKey: ['environments'], queryFn: fetchEnvironments, staleTime: 30_000 });
  const [selected, setSelected] = useState<string | null>(() => localStorage.getItem(STORAGE_KEY));
  const list = query.data?.list ?? [IMPLICIT];
  const defaultKey = query.data?.defaultKey ?? IMPLICIT.key;
  const current = list.find((e) => e.key === selected) ?? list.find((e) => e.key === defaultKey) ?? list[0] ?? IMPLICIT;
  const supported = query.data?.supported ?? false;

  // Set synchronously during render so the first queries of a screen already carry it.
  setRequestEnvironment(supported ? current.key : null);
  useEffect(() => {
    localStorage.setItem(STORAGE_KEY, current.key);
  }, [current.key]);

  const value = useMemo<EnvironmentValue>(
    () => ({
      environments: list,
      supported,
      current,
      defaultKey,
      select(key: string) {
        setSelected(key);
        setRequestEnvironment(key);
        void client.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'session' && q.queryKey[0] !== 'environments' });
      },
    }),
    [list, supported, current, defaultKey, client],
  );
  return <EnvironmentContext value={value}>{children}</EnvironmentContext>;
}

/** The environment context. */
export function useEnvironment(): EnvironmentValue {
  const v = use(EnvironmentContext);
  if (v === null) throw new Error('useEnvironment outside EnvironmentProvider');
  return v;
}

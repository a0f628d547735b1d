import type { Flag } from '../api/flags';

/** The flag's variants and their values (shared by every environment). */
export function VariantsPanel({ flag }: { flag: Flag }) {
  return (
    <section aria-labelledby="variants-title">
      <h2 id="variants-title">Variants</h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {(flag.attributes.variants ?? []).map((v) => (
            <tr key={v.key}>
              <td>
                <code>{v.key}</code>
              </td>
              <td>
                <code>{JSON.stringify(v.value)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

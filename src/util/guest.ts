/**
 * How a guest is named in every log line and every human output: `VM 120` / `CT 121`, the way the
 * guide greps the journal (`journalctl -u proxmox-balance-automigrate.service | grep "VM 120"`).
 */
export type GuestType = 'qemu' | 'lxc';

/** `VM 120` for a qemu guest, `CT 121` for a container, `guest 122` when the type is unknown. */
export function guestRef(vmid: number, type?: GuestType | string | null): string {
  const kind = type === 'qemu' ? 'VM' : type === 'lxc' ? 'CT' : 'guest';
  return `${kind} ${vmid}`;
}

/** `VM 120 web01`: the reference followed by the name, when there is one. */
export function guestLabel(vmid: number, type?: GuestType | string | null, name?: string | null): string {
  return name ? `${guestRef(vmid, type)} ${name}` : guestRef(vmid, type);
}

/** A pattern matching lines about this guest: `VM 120` or `CT 120`, not `VM 1200`. */
export function guestPattern(vmid: number): RegExp {
  return new RegExp(`\\b(?:VM|CT|guest) ${vmid}(?!\\d)`);
}

// The one confirm-before-acting dialog of the app (issue 12): a modal alert dialog with the
// question, what follows from it, "Cancel" and the action's own button. `ConfirmDialog` is
// opened by its caller (e.g. for the row whose button was pressed); `ConfirmButton` is a
// button that opens it and runs the action only after the confirmation.
import { useState, type ReactNode } from "react";
import { Button, Dialog, Heading, Modal, ModalOverlay } from "react-aria-components";

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  isOpen,
  onCancel,
  onConfirm,
  busy = false,
  danger = true,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  isOpen: boolean;
  onCancel: () => void;
  onConfirm: () => void;
  /** While the action runs, its button is disabled. */
  busy?: boolean;
  /** A destructive action (red button); otherwise the primary style. */
  danger?: boolean;
}) {
  return (
    <ModalOverlay
      className="app-modal-overlay"
      isOpen={isOpen}
      isDismissable
      onOpenChange={(open) => {
        if (!open) onCancel();
      }}
    >
      <Modal className="app-modal">
        <Dialog role="alertdialog" className="app-dialog">
          <Heading slot="title">{title}</Heading>
          {children}
          <div className="app-dialog-buttons">
            <Button onPress={onCancel}>Cancel</Button>
            <Button
              className={danger ? "react-aria-Button danger" : "react-aria-Button primary"}
              onPress={onConfirm}
              isDisabled={busy}
            >
              {confirmLabel}
            </Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

/** A button that asks first: the dialog closes on either answer, and `onConfirm` runs only
 * after the confirmation (its errors are for the caller to show on the page). */
export function ConfirmButton({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
  danger = false,
  busy = false,
}: {
  label: ReactNode;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  danger?: boolean;
  /** While the action runs, the button is disabled. */
  busy?: boolean;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        className={danger ? "react-aria-Button danger" : "react-aria-Button"}
        isDisabled={busy}
        onPress={() => setOpen(true)}
      >
        {label}
      </Button>
      <ConfirmDialog
        title={title}
        confirmLabel={confirmLabel}
        isOpen={open}
        danger={danger}
        onCancel={() => setOpen(false)}
        onConfirm={() => {
          setOpen(false);
          onConfirm();
        }}
      >
        {children}
      </ConfirmDialog>
    </>
  );
}

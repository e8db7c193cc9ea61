import type { ReactNode } from "react";
import { Button, Dialog, DialogTrigger, Heading, Modal } from "react-aria-components";

/** A confirmation in a modal dialog: the action runs only after "confirm". */
export function Confirm({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
  danger = false,
}: {
  label: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  danger?: boolean;
}) {
  return (
    <DialogTrigger>
      <Button className={danger ? "react-aria-Button danger" : "react-aria-Button"}>{label}</Button>
      <Modal isDismissable className="downtimes-modal">
        <Dialog className="downtimes-dialog">
          {({ close }) => (
            <>
              <Heading slot="title">{title}</Heading>
              {children}
              <div className="downtimes-dialog-buttons">
                <Button onPress={close}>Cancel</Button>
                <Button
                  className={danger ? "react-aria-Button danger" : "react-aria-Button primary"}
                  onPress={() => {
                    close();
                    onConfirm();
                  }}
                >
                  {confirmLabel}
                </Button>
              </div>
            </>
          )}
        </Dialog>
      </Modal>
    </DialogTrigger>
  );
}


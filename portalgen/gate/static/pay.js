// Submits the form that takes the customer to the payment page (the gate's CSP allows
// only the gate's own scripts, so this is a file, not inline).
document.getElementById("pay-redirect").submit();
